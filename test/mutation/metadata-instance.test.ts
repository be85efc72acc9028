import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CredentialsNotFound } from '../../src/errors.js';
import { MetadataConfigError, MetadataResponseError } from '../../src/providers/metadata/errors.js';
import { fromInstanceMetadata, regionFromInstanceMetadata, type InstanceMetadataOptions } from '../../src/providers/metadata/instance.js';
import { createFakeClock, type FakeClock } from '../../src/testing/fake-clock.js';
import { IMDS_PATHS, startImdsServer, type ImdsServer, type ImdsServerOptions } from '../../src/testing/imds-server.js';
import { credentialsDocument, numberedCredentials, startMetadataServer, type MetadataAnswer, type MetadataServerBase } from '../../src/testing/metadata-server-common.js';
import { rejection } from '../helpers/rejection.js';

// Tests added from the surviving mutants of `node bench/mutation.mjs metadata/instance`.
const ROLE = 'credchain-test-role';
const CREDS = IMDS_PATHS.credentials(ROLE);
const TOKEN = IMDS_PATHS.token;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

async function setup(serverOptions: ImdsServerOptions = {}, providerOptions: InstanceMetadataOptions = {}) {
  const clock = createFakeClock();
  const server = await startImdsServer({ now: clock.now, ...serverOptions });
  cleanups.push(() => server.close());
  const debug: string[] = [];
  const options: InstanceMetadataOptions = {
    endpoint: server.endpoint,
    env: {},
    now: clock.now,
    retryDelayMs: 0,
    logger: { debug: (...a: unknown[]) => debug.push(a.map(String).join(' ')) },
    ...providerOptions,
  };
  return { clock, server, debug, options, provider: fromInstanceMetadata(options) };
}

const log = (server: ImdsServer | MetadataServerBase) => server.requests.map((r) => `${r.method} ${r.path} ${r.status}`);

/** A loopback port with nothing listening on it (connection refused). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Blocks this thread (timers included) for `ms`, as a busy process would. */
function blockThread(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !condition(); i++) await new Promise((r) => setTimeout(r, 1));
}

describe('metadata/instance (mutation): credentials and role', () => {
  it('a listed role without credentials (404) is not-found after one try; the next call asks for the role again', async () => {
    const { server, provider } = await setup();
    server.addFault({ path: CREDS, status: 404 });
    const error = await rejection(provider());
    expect(error).toBeInstanceOf(CredentialsNotFound);
    expect(error).toMatchObject({
      providerName: 'instance-metadata',
      message: `instance-metadata: IMDS lists role ${ROLE} but has no credentials for it (404)`,
    });
    expect(log(server)).toEqual([`PUT ${TOKEN} 200`, `GET ${IMDS_PATHS.roleList} 200`, `GET ${CREDS} 404`]);
    server.resetLog();
    await expect(provider()).resolves.toMatchObject({ accessKeyId: 'ASIAIMDS00000001' });
    expect(log(server)).toEqual([`GET ${IMDS_PATHS.roleList} 200`, `GET ${CREDS} 200`]);
  });

  it('other statuses of the credentials path: 418 is an error naming it, 429 is retried', async () => {
    const { server, provider } = await setup();
    server.addFault({ path: CREDS, status: 418, body: '{}' });
    const error = await rejection(provider());
    expect(error).toBeInstanceOf(MetadataResponseError);
    expect(error).toMatchObject({ status: 418, request: `GET ${CREDS}`, message: `instance-metadata: GET ${CREDS} answered 418` });
    server.resetLog();
    server.addFault({ path: CREDS, status: 429 });
    await expect(provider()).resolves.toMatchObject({ accessKeyId: 'ASIAIMDS00000001' });
    expect(log(server)).toEqual([`GET ${CREDS} 429`, `GET ${CREDS} 200`]);
  });

  it('the role list: first line, trimmed; empty means no role; a bad name is an error naming the request', async () => {
    const { server, provider } = await setup();
    server.addFault({ path: IMDS_PATHS.roleList, status: 200, body: `  ${ROLE}\r\nsecond-role\n` });
    await expect(provider()).resolves.toMatchObject({ accessKeyId: 'ASIAIMDS00000001' });
    expect(server.requests.at(-1)!.path).toBe(CREDS);

    const empty = await setup();
    empty.server.addFault({ path: IMDS_PATHS.roleList, status: 200, body: '' });
    const none = await rejection(empty.provider());
    expect(none).toBeInstanceOf(CredentialsNotFound);
    expect(none).toMatchObject({ providerName: 'instance-metadata', message: 'instance-metadata: this instance has no IAM role (instance profile) attached' });
    expect(empty.server.count()).toBe(2);

    const missing = await setup({ roleName: null });
    expect(await rejection(missing.provider())).toMatchObject({ providerName: 'instance-metadata' });

    const bad = await setup();
    bad.server.addFault({ path: IMDS_PATHS.roleList, status: 200, body: 'role/../x' });
    const wrong = await rejection(bad.provider());
    expect(wrong).toBeInstanceOf(MetadataResponseError);
    expect(wrong).toMatchObject({ providerName: 'instance-metadata', request: `GET ${IMDS_PATHS.roleList}`, status: 200 });
  });
});

describe('metadata/instance (mutation): region', () => {
  it('trims the answer; anything but a whole region name is an error; other statuses are errors', async () => {
    const { server, options } = await setup({ region: 'eu-west-3' });
    server.addFault({ path: IMDS_PATHS.region, status: 200, body: 'eu-west-3\n' });
    await expect(regionFromInstanceMetadata(options)).resolves.toBe('eu-west-3');
    for (const body of ['region: eu-west-3', 'eu-west-3 <html>']) {
      server.addFault({ path: IMDS_PATHS.region, status: 200, body });
      const error = await rejection(regionFromInstanceMetadata(options));
      expect(error).toBeInstanceOf(MetadataResponseError);
      expect(error).toMatchObject({
        providerName: 'instance-metadata',
        request: `GET ${IMDS_PATHS.region}`,
        status: 200,
        message: `instance-metadata: GET ${IMDS_PATHS.region} answered 200 with something that is not a region name`,
      });
    }
    server.addFault({ path: IMDS_PATHS.region, status: 418, body: 'eu-west-3' });
    const error = await rejection(regionFromInstanceMetadata(options));
    expect(error).toMatchObject({ status: 418, message: `instance-metadata: GET ${IMDS_PATHS.region} answered 418` });
  });

  it('onlyIfOnEc2 without evidence: nothing sent, one debug line saying what to set', async () => {
    const { server, options, debug } = await setup();
    await expect(regionFromInstanceMetadata({ ...options, onlyIfOnEc2: true })).resolves.toBeUndefined();
    expect(server.count()).toBe(0);
    expect(debug).toEqual([
      `instance-metadata: not asking ${server.endpoint} for the region: nothing shows this process runs on EC2 ` +
        "(instance metadata has not answered here); set AWS_REGION or the profile's region to pick one",
    ]);
  });
});

describe('metadata/instance (mutation): the session token', () => {
  it('is renewed from exactly 90% of a 100 s lifetime', async () => {
    const { server, provider, clock } = await setup({}, { tokenTtlSeconds: 100 });
    await provider();
    clock.advance(89_999);
    await provider();
    expect(server.count({ method: 'PUT' })).toBe(1);
    clock.advance(1);
    await provider();
    expect(server.count({ method: 'PUT' })).toBe(2);
  });

  it('a lifetime of 1 s is allowed; the option is checked by name', async () => {
    const { server, provider } = await setup({}, { tokenTtlSeconds: 1 });
    await provider();
    expect(server.requests[0]!.headers['x-aws-ec2-metadata-token-ttl-seconds']).toBe('1');
    for (const [options, setting] of [
      [{ tokenTtlSeconds: 1.5 }, 'tokenTtlSeconds'],
      [{ offEc2MemoryMs: Number.NaN }, 'offEc2MemoryMs'],
    ] as const) {
      let error: unknown;
      try {
        fromInstanceMetadata(options);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(MetadataConfigError);
      expect(error).toMatchObject({ providerName: 'instance-metadata', setting });
    }
  });

  it('a token PUT answering 5xx or 429 is retried; 400 names the lifetime asked; other statuses are errors, no GET sent', async () => {
    for (const status of [500, 429]) {
      const { server, provider } = await setup();
      server.addFault({ path: TOKEN, status });
      await expect(provider()).resolves.toMatchObject({ accessKeyId: 'ASIAIMDS00000001' });
      expect(log(server).slice(0, 2)).toEqual([`PUT ${TOKEN} ${status}`, `PUT ${TOKEN} 200`]);
    }
    const { server, provider } = await setup();
    server.addFault({ path: TOKEN, status: 400 });
    expect(await rejection(provider())).toMatchObject({
      status: 400,
      message: `instance-metadata: PUT ${TOKEN} answered 400: IMDS refused the token request (tokenTtlSeconds is 21600)`,
    });
    server.addFault({ path: TOKEN, status: 418, body: 'looks-like-a-token' });
    const error = await rejection(provider());
    expect(error).toBeInstanceOf(MetadataResponseError);
    expect(error).toMatchObject({ status: 418, message: `instance-metadata: PUT ${TOKEN} answered 418` });
    expect(server.count({ method: 'GET' })).toBe(0);
  });

  it('the token is sent trimmed; one that cannot be a header value is an error before any GET', async () => {
    const { server, provider } = await setup();
    server.addFault({ path: TOKEN, status: 200, body: '  not-issued-token \n' });
    await expect(provider()).resolves.toMatchObject({ accessKeyId: 'ASIAIMDS00000001' });
    // The server never issued it: 401, then a real token.
    expect(server.requests[1]!.headers['x-aws-ec2-metadata-token']).toBe('not-issued-token');
    expect(log(server).slice(0, 3)).toEqual([`PUT ${TOKEN} 200`, `GET ${IMDS_PATHS.roleList} 401`, `PUT ${TOKEN} 200`]);

    for (const body of ['', ' \n', 'abc\ndef', 'abc\u0001def', 'two words']) {
      const s = await setup();
      s.server.addFault({ path: TOKEN, status: 200, body });
      const error = await rejection(s.provider());
      expect(error).toBeInstanceOf(MetadataResponseError);
      expect(error).toMatchObject({
        providerName: 'instance-metadata',
        request: `PUT ${TOKEN}`,
        status: 200,
        message: `instance-metadata: PUT ${TOKEN} answered 200 without a usable token`,
      });
      expect(s.server.count({ method: 'GET' })).toBe(0);
    }
  });

  it('trusts the shorter of the lifetime asked and the one IMDS reports (when it reports a usable one)', async () => {
    for (const [reported, effectiveSeconds] of [
      ['50', 50],
      ['500', 100],
      ['0', 100],
      ['-5', 100],
      ['soon', 100],
      [undefined, 100],
    ] as const) {
      const clock = createFakeClock();
      let served = 0;
      const server = await startMetadataServer((_req, path, entry): MetadataAnswer => {
        if (entry.method === 'PUT') return { status: 200, body: 'token-value', headers: reported === undefined ? {} : { 'x-aws-ec2-metadata-token-ttl-seconds': reported } };
        if (path === IMDS_PATHS.roleList) return { status: 200, body: ROLE };
        served += 1;
        return { status: 200, body: credentialsDocument(numberedCredentials('IMDS', served), 21_600, clock.now) };
      });
      cleanups.push(() => server.close());
      const provider = fromInstanceMetadata({ endpoint: server.endpoint, env: {}, now: clock.now, tokenTtlSeconds: 100 });
      const renewAt = effectiveSeconds * 900; // 90% of the lifetime, in ms
      await provider();
      clock.set(clock.now() + renewAt - 1);
      await provider();
      expect({ reported, puts: server.count({ method: 'PUT' }) }).toEqual({ reported, puts: 1 });
      clock.advance(1);
      await provider();
      expect({ reported, puts: server.count({ method: 'PUT' }) }).toEqual({ reported, puts: 2 });
    }
  });
});

describe('metadata/instance (mutation): off EC2', () => {
  it('connection refused: not-found naming the endpoint, one debug line; then "recently" without a request', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const debug: string[] = [];
    const options = { endpoint, env: {}, logger: { debug: (...a: unknown[]) => debug.push(a.map(String).join(' ')) } };
    const error = await rejection(fromInstanceMetadata(options)());
    expect(error).toBeInstanceOf(CredentialsNotFound);
    expect(error.message).toBe(`instance-metadata: no instance metadata service at ${endpoint} (PUT ${endpoint}${TOKEN} failed: ECONNREFUSED); not on EC2?`);
    expect(error).toMatchObject({ providerName: 'instance-metadata' });
    expect(error.cause).toBeInstanceOf(MetadataResponseError);
    expect(debug).toEqual([`instance-metadata: nothing answered at ${endpoint}; treating this process as off EC2 for 60000 ms`]);
    const again = await rejection(fromInstanceMetadata(options)());
    expect(again).toMatchObject({
      providerName: 'instance-metadata',
      message: `instance-metadata: no instance metadata service answered at ${endpoint} recently (not on EC2?)`,
    });
  });

  it('IMDSv1 disabled and the token PUT unanswered: the hop-limit hint in full', async () => {
    const { server, provider } = await setup({ dropTokenAnswers: true }, { timeoutMs: 200, ec2MetadataV1Disabled: true });
    const error = await rejection(provider());
    expect(error.message).toBe(
      `instance-metadata: no instance metadata service at ${server.endpoint} (PUT ${server.endpoint}${TOKEN} timed out after 200 ms); not on EC2? ` +
        '(in a container on EC2 with a metadata hop limit of 1 the token answer is dropped, and the IMDSv1 fallback is disabled by ' +
        'option ec2MetadataV1Disabled: raise the hop limit to 2)',
    );
  });

  it('after an endpoint was found absent, the next try (memory off) starts with a token again', async () => {
    const { server, provider } = await setup({}, { timeoutMs: 500, offEc2MemoryMs: 0 }); // room for a loaded machine to see both requests
    server.addFault({ hang: true, times: 2 }); // the token PUT, then the IMDSv1 GET
    await expect(provider()).rejects.toThrow(CredentialsNotFound);
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`PUT ${TOKEN}`, `GET ${IMDS_PATHS.roleList}`]);
    server.resetLog();
    await expect(provider()).resolves.toMatchObject({ accessKeyId: 'ASIAIMDS00000001' });
    expect(log(server)).toEqual([`PUT ${TOKEN} 200`, `GET ${IMDS_PATHS.roleList} 200`, `GET ${CREDS} 200`]);
    expect(typeof server.requests[1]!.headers['x-aws-ec2-metadata-token']).toBe('string');
  });

  it('the IMDSv1 GET after an unanswered token PUT gets only what is left of two timeouts, even when the PUT timed out late', async () => {
    // [thread blocked for, the GET's timeout]: the PUT (400 ms) fires late, after the block; the GET gets 800 ms minus that.
    for (const [blockMs, expected] of [
      [1_000, (ms: number) => ms === 1],
      [500, (ms: number) => ms > 1 && ms < 400], // at most 300 ms: 800 minus 500 and the time to send the PUT
    ] as const) {
      const { server, provider } = await setup({}, { timeoutMs: 400 });
      server.addFault({ hang: true, times: Infinity });
      const result = rejection(provider());
      await until(() => server.count({ method: 'PUT' }) === 1);
      blockThread(blockMs);
      const error = await result;
      expect(error).toBeInstanceOf(CredentialsNotFound);
      const m = /GET \S+ timed out after (-?\d+) ms\); not on EC2\?$/.exec(error.message);
      expect(m, error.message).not.toBeNull();
      expect({ blockMs, ms: Number(m![1]), ok: expected(Number(m![1])) }).toMatchObject({ ok: true });
      expect(server.count({ method: 'PUT' })).toBe(1); // not retried
    }
  });
});

describe('metadata/instance (mutation): provider', () => {
  it('a custom agent that fails before sending is reported as such, not as "off EC2"', async () => {
    const { server, options } = await setup();
    // addRequest is internal to Node (not in its types): a ClientRequest calls it while being built.
    const broken = Object.assign(new http.Agent(), {
      addRequest: () => {
        throw new Error('agent broke');
      },
    });
    const error = await rejection(fromInstanceMetadata({ ...options, agent: broken })());
    expect(error).toBeInstanceOf(MetadataResponseError);
    expect(error).not.toBeInstanceOf(CredentialsNotFound);
    expect(error.message).toBe(`instance-metadata: PUT ${TOKEN} got no answer: Error: agent broke`);
    // The endpoint is not remembered as absent.
    await expect(fromInstanceMetadata(options)()).resolves.toMatchObject({ accessKeyId: 'ASIAIMDS00000001' });
    expect(server.count({ method: 'PUT' })).toBe(1);
  });

  it('AWS_EC2_METADATA_DISABLED: the not-found error carries the provider name', async () => {
    const error = await rejection(fromInstanceMetadata({ env: { AWS_EC2_METADATA_DISABLED: 'true' } })());
    expect(error).toMatchObject({ providerName: 'instance-metadata', message: 'instance-metadata: disabled by AWS_EC2_METADATA_DISABLED=true' });
  });

  it('background attempts share the process-wide budget per endpoint, not across endpoints', async () => {
    const clock: FakeClock = createFakeClock(Date.UTC(2032, 6, 7)); // a start no other test uses: the budget is process-wide
    const [s1, s2] = [await startImdsServer({ now: clock.now }), await startImdsServer({ now: clock.now })];
    cleanups.push(() => s1.close(), () => s2.close());
    const make = (s: ImdsServer) => fromInstanceMetadata({ endpoint: s.endpoint, env: {}, now: clock.now, random: () => 0, retryDelayMs: 0 });
    const [a, b, c] = [make(s1), make(s1), make(s2)];
    for (const p of [a, b, c]) await p();
    for (const s of [s1, s2]) s.addFault({ path: CREDS, status: 500, times: Infinity });
    for (const p of [a, b, c]) expect((await p()).expiration?.getTime()).toBe(clock.now() + 5_000);
    for (const s of [s1, s2]) s.resetLog();
    clock.advance(5_000);
    for (const p of [a, b, c]) await p();
    for (let i = 0; i < 500 && (a.status().attempting || c.status().attempting); i++) await new Promise((r) => setTimeout(r, 2));
    // a asked s1; b (same endpoint, due in the same millisecond) waits 5 s; c asks s2.
    expect([s1.count({ path: CREDS }), s2.count({ path: CREDS })]).toEqual([1, 1]);
    expect(a.status()).toMatchObject({ failures: 2, attempting: false });
    expect(b.status()).toMatchObject({ failures: 1, nextAttemptAt: new Date(clock.now() + 5_000) });
    expect(c.status()).toMatchObject({ failures: 2 });
  });
});
