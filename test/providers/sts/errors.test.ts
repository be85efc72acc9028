import { inspect } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import type { Credentials } from '../../../src/credentials.js';
import { CredentialsNotFound } from '../../../src/errors.js';
import { fromAssumeRole } from '../../../src/providers/sts/assume-role.js';
import { StsCredentialsError } from '../../../src/providers/sts/errors.js';
import { fromSessionToken } from '../../../src/providers/sts/session-token.js';
import { fromWebIdentity } from '../../../src/providers/sts/web-identity.js';
import { captureLogger, jwt, MINUTE, ROLE, setup } from './helpers.js';

async function failure(p: () => Promise<unknown>): Promise<StsCredentialsError> {
  const error = await p().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StsCredentialsError);
  return error as StsCredentialsError;
}

describe('STS provider errors', () => {
  it('AccessDenied (role not assumable, wrong external id) carries role ARN and code', async () => {
    const t = await setup({ roles: { [ROLE('allowed')]: { externalId: 'right' } } });
    for (const options of [{ roleArn: ROLE('denied') }, { roleArn: ROLE('allowed'), externalId: 'wrong' }]) {
      const e = await failure(fromAssumeRole({ ...options, source: t.user, sts: t.sts, now: t.clock.now }));
      expect(e).toMatchObject({ code: 'AccessDenied', roleArn: options.roleArn, operation: 'AssumeRole', providerName: 'assume-role', statusCode: 403 });
      expect(e.message).toContain(`assume-role: STS AssumeRole for role ${options.roleArn} failed: AccessDenied:`);
      expect(e.requestId).toBe(t.server.requests.at(-1)?.requestId);
      expect(e).not.toBeInstanceOf(CredentialsNotFound);
    }
  });

  it('MalformedPolicyDocument carries role ARN and code; client-side rule breaks never reach STS', async () => {
    const t = await setup();
    const e = await failure(fromAssumeRole({ roleArn: ROLE('r'), source: t.user, policy: '{nope', sts: t.sts, now: t.clock.now }));
    expect(e).toMatchObject({ code: 'MalformedPolicyDocument', roleArn: ROLE('r') });
    expect(t.server.counts.total).toBe(1);
    const v = await failure(fromAssumeRole({ roleArn: ROLE('r'), source: t.user, roleSessionName: 'has space', sts: t.sts, now: t.clock.now }));
    expect(v.message).toMatch(/for role arn:aws:iam::111122223333:role\/r failed: ValidationError: invalid parameter RoleSessionName/);
    expect(t.server.counts.total).toBe(1);
  });

  it('ExpiredToken for the source: the source is invalidated once and the call retried', async () => {
    const t = await setup();
    // A source holding a session the server considers expired, until it is invalidated.
    const hop = fromAssumeRole({ roleArn: ROLE('one'), source: t.user, sts: t.sts, now: t.clock.now, refresh: false, sessionCache: false });
    let current: Credentials = await hop();
    t.clock.advance(61 * MINUTE);
    let stale = true;
    const source = Object.assign(async () => (stale ? current : (current = await hop())), {
      invalidate: vi.fn(() => {
        stale = false;
      }),
    });
    const tokenCode = vi.fn(async () => '123456');
    const p = fromAssumeRole({ roleArn: ROLE('two'), source, mfaSerial: 'GAHT12345678', tokenCode, sts: t.sts, now: t.clock.now });
    const c = await p();
    expect(source.invalidate).toHaveBeenCalledTimes(1);
    expect(tokenCode).toHaveBeenCalledTimes(1); // the same renewal: the code is reused for the retry
    expect(t.server.requests.map((r) => [r.params.RoleArn, r.errorCode])).toEqual([
      [ROLE('one'), undefined],
      [ROLE('two'), 'ExpiredToken'],
      [ROLE('one'), undefined],
      [ROLE('two'), undefined],
    ]);
    expect(t.server.requests[3]?.accessKeyId).toBe(current.accessKeyId);
    expect(c.accessKeyId).toBe(t.server.issued.at(-1)?.accessKeyId);
  });

  it('a second ExpiredToken is thrown, after exactly one invalidation and one retry', async () => {
    const t = await setup();
    const invalidate = vi.fn();
    const source = Object.assign(t.user, { invalidate });
    t.server.inject({ kind: 'error', status: 400, code: 'ExpiredToken', message: 'The security token included in the request is expired', action: 'GetSessionToken' });
    t.server.inject({ kind: 'error', status: 400, code: 'ExpiredToken', message: 'The security token included in the request is expired', action: 'GetSessionToken' });
    const e = await failure(fromSessionToken({ source, sts: t.sts, now: t.clock.now }));
    expect(e.code).toBe('ExpiredToken');
    expect(invalidate).toHaveBeenCalledTimes(1);
    expect(t.server.counts.GetSessionToken).toBe(2);
  });

  it('other codes are not retried by the provider; source failures name the role and keep the cause', async () => {
    const t = await setup();
    const invalidate = vi.fn();
    const source = Object.assign(t.user, { invalidate });
    t.server.inject({ kind: 'error', status: 403, code: 'InvalidClientTokenId', message: 'The security token included in the request is invalid.' });
    await failure(fromAssumeRole({ roleArn: ROLE('r'), source, sts: t.sts, now: t.clock.now }));
    expect(invalidate).not.toHaveBeenCalled();
    expect(t.server.counts.total).toBe(1);

    const cause = new CredentialsNotFound('env: AWS_ACCESS_KEY_ID is not set');
    const broken = fromAssumeRole({ roleArn: ROLE('r'), source: () => Promise.reject(cause), sts: t.sts, now: t.clock.now });
    const e = (await broken().catch((x: unknown) => x)) as Error;
    expect(e).not.toBeInstanceOf(CredentialsNotFound); // a configured role whose source is missing is a real failure
    expect(e.message).toBe(`assume-role: could not get the source credentials for role ${ROLE('r')}: env: AWS_ACCESS_KEY_ID is not set`);
    expect(e.cause).toBe(cause);
  });

  it('an inner hop failure comes through with its own role named', async () => {
    const t = await setup({ roles: { [ROLE('outer')]: {} } });
    const inner = fromAssumeRole({ roleArn: ROLE('inner'), source: t.user, sts: t.sts, now: t.clock.now });
    const outer = fromAssumeRole({ roleArn: ROLE('outer'), source: inner, sts: t.sts, now: t.clock.now });
    const e = await failure(outer);
    expect(e).toMatchObject({ roleArn: ROLE('inner'), code: 'AccessDenied' });
  });

  it('no secret in messages, JSON or inspect of errors and credentials', async () => {
    const t = await setup();
    const p = fromAssumeRole({ roleArn: ROLE('r'), source: t.user, sts: t.sts, now: t.clock.now });
    const c = await p();
    t.server.inject({ kind: 'error', status: 403, code: 'AccessDenied', message: 'nope' });
    const e = await failure(fromAssumeRole({ roleArn: ROLE('x'), source: p, sts: t.sts, now: t.clock.now }));
    for (const text of [e.message, JSON.stringify(e), inspect(e), JSON.stringify(c), inspect(c), String(c)]) {
      expect(text).not.toContain(c.secretAccessKey);
      expect(text).not.toContain(c.sessionToken!);
    }
  });

  it('debug lines say what happened (new session, shared session, retry) without secrets', async () => {
    const t = await setup();
    const { lines, logger } = captureLogger();
    const tok = jwt({ sub: 'SUBJECT', aud: 'sts.amazonaws.com', iss: 'https://oidc.example.com' });
    const make = () => fromWebIdentity({ roleArn: ROLE('web'), webIdentityToken: tok, roleSessionName: 'pod', sts: t.sts, now: t.clock.now, logger });
    const c = await make()();
    await make()();
    expect(lines.some((l) => l.startsWith('web-identity: new STS session ****'))).toBe(true);
    expect(lines.some((l) => l.startsWith('web-identity: shared session from the STS session cache'))).toBe(true);
    expect(lines.some((l) => l.startsWith('sts: AssumeRoleWithWebIdentity'))).toBe(true);
    for (const line of lines) {
      for (const secret of [tok, c.secretAccessKey, c.sessionToken!, c.accessKeyId]) expect(line).not.toContain(secret);
    }
  });
});
