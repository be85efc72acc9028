import { Agent } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { makeCredentials, type Credentials } from '../../../src/credentials.js';
import { fromAssumeRole } from '../../../src/providers/sts/assume-role.js';
import { fromSessionToken } from '../../../src/providers/sts/session-token.js';
import { fromTokenFile } from '../../../src/providers/sts/token-file.js';
import { jwt, MINUTE, ROLE, setup, USER } from './helpers.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A fresh credentials object (same keys) on every call, as a renewing source would hand out. */
const freshUserObjects = () => async () => makeCredentials({ accessKeyId: USER.accessKeyId, secretAccessKey: USER.secretAccessKey });

describe('STS-backed providers: source retry and client reuse', () => {
  it('a role chain over expired base credentials: one invalidation of the base, two requests, no retry per hop', async () => {
    const t = await setup();
    const seed = fromAssumeRole({ roleArn: ROLE('seed'), source: t.user, sts: t.sts, now: t.clock.now, refresh: false, sessionCache: false });
    const expired: Credentials = await seed();
    t.clock.advance(61 * MINUTE);
    t.server.clearLog();
    // Base credentials STS keeps calling expired, even after invalidation.
    const base = Object.assign(async () => expired, { invalidate: vi.fn() });
    const common = { sts: t.sts, now: t.clock.now };
    const hop1 = fromAssumeRole({ ...common, roleArn: ROLE('one'), source: base });
    const hop2 = fromAssumeRole({ ...common, roleArn: ROLE('two'), source: hop1 });
    const hop3 = fromAssumeRole({ ...common, roleArn: ROLE('three'), source: hop2 });
    const e = (await hop3().catch((x: unknown) => x)) as Error & { code?: string; roleArn?: string };
    expect(e).toMatchObject({ code: 'ExpiredToken', roleArn: ROLE('one') });
    expect(base.invalidate).toHaveBeenCalledTimes(1);
    expect(t.server.requests.map((r) => [r.params.RoleArn, r.errorCode])).toEqual([
      [ROLE('one'), 'ExpiredToken'],
      [ROLE('one'), 'ExpiredToken'],
    ]);
  });

  it('ExpiredTokenException for the source also invalidates it once and retries', async () => {
    const t = await setup();
    const source = Object.assign(t.user, { invalidate: vi.fn() });
    t.server.inject({ kind: 'error', status: 400, code: 'ExpiredTokenException', message: 'The security token included in the request is expired', action: 'AssumeRole' });
    const c = await fromAssumeRole({ roleArn: ROLE('r'), source, sts: t.sts, now: t.clock.now })();
    expect(source.invalidate).toHaveBeenCalledTimes(1);
    expect(t.server.requests.map((r) => r.errorCode)).toEqual(['ExpiredTokenException', undefined]);
    expect(c.accessKeyId).toBe(t.server.issued[0]?.accessKeyId);
  });

  it('keeps the learned clock offset across new source credentials: one request per renewal after the first', async () => {
    const t = await setup();
    t.server.setFaultRate(1, { kind: 'skew', offsetMs: 20 * MINUTE }, () => 0);
    const p = fromSessionToken({ source: freshUserObjects(), sts: t.sts, now: t.clock.now, refresh: false, sessionCache: false });
    for (let i = 0; i < 3; i++) await p();
    expect(t.server.requests.map((r) => r.status)).toEqual([403, 200, 200, 200]);
  });

  it('resolves the region once per provider, however many source credentials it signs with', async () => {
    const t = await setup({ region: 'eu-north-1' });
    const instanceRegion = vi.fn(async () => 'eu-north-1');
    const sts = { endpoint: t.server.url, env: {}, baseDelay: 0, instanceRegion };
    const p = fromSessionToken({ source: freshUserObjects(), sts, now: t.clock.now, refresh: false, sessionCache: false });
    for (let i = 0; i < 3; i++) await p();
    expect(t.server.requests.map((r) => [r.signingRegion, r.signatureValid])).toEqual(Array.from({ length: 3 }, () => ['eu-north-1', true]));
    expect(instanceRegion).toHaveBeenCalledTimes(1);
  });

  it('fromTokenFile({ env }) gives its STS client the same environment', async () => {
    const t = await setup();
    const dir = await mkdtemp(join(tmpdir(), 'credchain-token-env-'));
    dirs.push(dir);
    const path = join(dir, 'token');
    await writeFile(path, jwt({ sub: 'system:serviceaccount:ns:app', aud: 'sts.amazonaws.com', iss: 'https://oidc.example.com', exp: t.clock.now() / 1000 + 3600 }));
    // Refuses anything but this test's loopback server, so a client reading another environment cannot go out.
    const loopbackOnly = new (class extends Agent {
      override createConnection(options: { host?: string | null; port?: number | null }, callback: never) {
        if (options.host !== '127.0.0.1' || options.port !== t.server.port) throw new Error(`test agent: refused ${String(options.host)}`);
        return super.createConnection(options as never, callback);
      }
    })();
    const env = { AWS_WEB_IDENTITY_TOKEN_FILE: path, AWS_ROLE_ARN: ROLE('web'), AWS_ENDPOINT_URL_STS: t.server.url, AWS_REGION: 'us-west-2' };
    const p = fromTokenFile({ env, sts: { agent: loopbackOnly, maxRetries: 0 }, now: t.clock.now, refresh: false, sessionCache: false });
    const c = await p();
    loopbackOnly.destroy();
    expect(c.accessKeyId).toBe(t.server.issued[0]?.accessKeyId);
    expect(t.server.requests[0]?.params).toMatchObject({ Action: 'AssumeRoleWithWebIdentity', RoleArn: ROLE('web') });
  });

  it('tokenCode without mfaSerial is a clear error when the provider is created', async () => {
    const t = await setup();
    const tokenCode = async () => '123456';
    expect(() => fromAssumeRole({ roleArn: ROLE('r'), source: t.user, tokenCode, sts: t.sts })).toThrow(
      'fromAssumeRole(): tokenCode is set but mfaSerial is not: pass mfaSerial, the serial number or ARN of the MFA device the code comes from',
    );
    expect(() => fromSessionToken({ source: t.user, tokenCode, sts: t.sts })).toThrow(/fromSessionToken\(\): tokenCode is set but mfaSerial is not/);
    expect(t.server.counts.total).toBe(0);
  });
});
