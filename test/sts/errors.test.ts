import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { StsClient, StsError, isStsError } from '../../src/sts/index.js';
import { backoffDelayMs, DEFAULT_RETRY_POLICY } from '../../src/sts/retry.js';
import { captureLogger, clientFor, jwt, ROLE_ARN, server, USER } from './helpers.js';

const fail = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e as StsError,
  );

describe('STS error responses become typed errors', () => {
  const documented: [code: string, status: number, retryable: boolean][] = [
    ['ExpiredTokenException', 400, false],
    ['ExpiredToken', 400, false],
    ['InvalidIdentityToken', 400, false],
    ['IDPRejectedClaim', 403, false],
    ['IDPCommunicationError', 400, true],
    ['MalformedPolicyDocument', 400, false],
    ['PackedPolicyTooLarge', 400, false],
    ['RegionDisabledException', 403, false],
    ['InvalidAuthorizationMessageException', 400, false],
    ['AccessDenied', 403, false],
    ['Throttling', 400, true],
    ['SignatureDoesNotMatch', 403, false],
    ['InvalidClientTokenId', 403, false],
    ['RequestExpired', 400, false],
    ['IncompleteSignature', 400, false],
    ['ValidationError', 400, false],
    ['InternalFailure', 500, true],
    ['ServiceUnavailable', 503, true],
  ];
  it.each(documented)('%s (HTTP %i) → code, status, request id, retryable=%s', async (code, status, retryable) => {
    const s = await server();
    s.inject({ kind: 'error', status, code, message: `the ${code} message` });
    const e = await fail(clientFor(s, { maxRetries: 0 }).getCallerIdentity());
    expect(e).toBeInstanceOf(StsError);
    expect(isStsError(e, code)).toBe(true);
    expect(e).toMatchObject({ code, statusCode: status, retryable, requestId: s.requests[0]!.requestId, serviceMessage: `the ${code} message`, operation: 'GetCallerIdentity' });
    expect(e.type).toBe(status >= 500 ? 'Receiver' : 'Sender');
    expect(e.message).toBe(`STS GetCallerIdentity failed: ${code}: the ${code} message (HTTP ${status}, request id ${s.requests[0]!.requestId})`);
    expect(JSON.parse(JSON.stringify(e))).toMatchObject({ name: 'StsError', code, statusCode: status, requestId: e.requestId, retryable });
  });

  it('a wrong secret gives SignatureDoesNotMatch, an unknown key InvalidClientTokenId, neither retried', async () => {
    const s = await server();
    const wrong = await fail(clientFor(s, { credentials: { accessKeyId: USER.accessKeyId, secretAccessKey: 'not-the-secret' } }).getCallerIdentity());
    expect(wrong).toMatchObject({ code: 'SignatureDoesNotMatch', statusCode: 403, retryable: false });
    const unknown = await fail(clientFor(s, { credentials: { accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: 'x' } }).getCallerIdentity());
    expect(unknown).toMatchObject({ code: 'InvalidClientTokenId', statusCode: 403 });
    expect(s.counts.total).toBe(2);
    expect(String(wrong) + inspect(wrong) + JSON.stringify(wrong)).not.toContain('not-the-secret');
  });

  it('server-side rules map to their documented codes', async () => {
    const s = await server({
      roles: { [ROLE_ARN]: {} },
      verifyWebIdentityToken: (token) =>
        token === 'rejected-token' ? { error: 'IDPRejectedClaim', message: 'Claim rejected' } : { subject: 's', audience: 'a', provider: 'p' },
    });
    const client = clientFor(s, { maxRetries: 0 });
    const anon = new StsClient({ endpoint: s.url, region: 'us-west-2', env: {}, maxRetries: 0 });
    const cases: [() => Promise<unknown>, string, number][] = [
      [() => client.assumeRole({ roleArn: 'arn:aws:iam::111122223333:role/other', roleSessionName: 'x1' }), 'AccessDenied', 403],
      [() => client.assumeRole({ roleArn: ROLE_ARN, roleSessionName: 'x1', policy: '{not json' }), 'MalformedPolicyDocument', 400],
      [() => client.assumeRole({ roleArn: ROLE_ARN, roleSessionName: 'x1', policy: `{"a":"${'x'.repeat(2000)}"}`, tags: [{ key: 'k', value: 'v'.repeat(256) }] }), 'PackedPolicyTooLarge', 400],
      [() => anon.assumeRoleWithWebIdentity({ roleArn: ROLE_ARN, roleSessionName: 'x1', webIdentityToken: 'rejected-token' }), 'IDPRejectedClaim', 403],
    ];
    for (const [call, code, status] of cases) expect(await fail(call())).toMatchObject({ code, statusCode: status });

    const s2 = await server();
    const anon2 = new StsClient({ endpoint: s2.url, region: 'us-west-2', env: {}, maxRetries: 0 });
    expect(await fail(anon2.assumeRoleWithWebIdentity({ roleArn: ROLE_ARN, roleSessionName: 'x1', webIdentityToken: 'not.a-jwt' }))).toMatchObject({ code: 'InvalidIdentityToken', statusCode: 400 });
    const expiredJwt = jwt({ sub: 's', iss: 'https://i', aud: 'a', exp: Math.floor(Date.now() / 1000) - 60 });
    expect(await fail(anon2.assumeRoleWithWebIdentity({ roleArn: ROLE_ARN, roleSessionName: 'x1', webIdentityToken: expiredJwt }))).toMatchObject({ code: 'ExpiredTokenException', statusCode: 400 });
  });
});

describe('unreadable responses', () => {
  const cases = [
    ['non-XML 502', { kind: 'non-xml', status: 502 } as const, 502, /no AssumeRoleResponse element/, true],
    ['non-XML 200', { kind: 'non-xml', status: 200 } as const, 200, /no AssumeRoleResponse element/, false],
    ['empty 200', { kind: 'empty' } as const, 200, /empty/, false],
    ['empty 503', { kind: 'empty', status: 503 } as const, 503, /empty/, true],
    ['truncated 200', { kind: 'truncate' } as const, 200, /truncated/, false],
  ] as const;
  it.each(cases)('%s → InvalidResponse with status and x-amzn-RequestId, never the body', async (_name, fault, status, why, retryable) => {
    const s = await server();
    s.inject(fault);
    const e = await fail(clientFor(s, { maxRetries: 0 }).assumeRole({ roleArn: ROLE_ARN, roleSessionName: 'trunc' }));
    expect(e).toMatchObject({ code: 'InvalidResponse', statusCode: status, requestId: s.requests[0]!.requestId, retryable });
    expect(e.message).toMatch(why);
    expect(e.message).not.toMatch(/[<>]/);
    // A truncated AssumeRole body holds the start of the credentials: none of it may leak.
    const issued = s.issued[0];
    if (issued) for (const secret of [issued.secretAccessKey, issued.sessionToken.slice(0, 20)]) expect(`${e.message}${inspect(e)}${JSON.stringify(e)}`).not.toContain(secret);
    expect(e.stack ?? '').not.toMatch(/fast-xml-parser/);
  });
});

describe('retries', () => {
  it('throttling is retried: two throttles then success = 3 requests', async () => {
    const s = await server();
    s.inject({ kind: 'throttle' }, { kind: 'throttle' });
    const out = await clientFor(s).getCallerIdentity();
    expect(out.account).toBe('123456789012');
    expect(s.counts.total).toBe(3);
    expect(s.requests.map((r) => r.errorCode)).toEqual(['Throttling', 'Throttling', undefined]);
    // Each attempt is signed afresh (its own valid signature).
    expect(s.requests.every((r) => r.signatureValid || r.fault === 'throttle')).toBe(true);
  });

  it('5xx is retried up to maxRetries, then the last error is thrown (maxRetries + 1 requests)', async () => {
    const s = await server();
    s.inject(...Array.from({ length: 5 }, () => ({ kind: 'server-error' }) as const));
    const e = await fail(clientFor(s, { maxRetries: 3 }).getCallerIdentity());
    expect(e).toMatchObject({ code: 'InternalFailure', statusCode: 500, retryable: true });
    expect(s.counts.total).toBe(4);
  });

  it('IDPCommunicationError, connection resets and 502 HTML pages are retried', async () => {
    const s = await server();
    s.inject({ kind: 'error', status: 400, code: 'IDPCommunicationError' }, { kind: 'reset' }, { kind: 'non-xml', status: 502 });
    const anon = new StsClient({ endpoint: s.url, region: 'us-west-2', env: {}, baseDelay: 0 });
    await anon.assumeRoleWithWebIdentity({ roleArn: ROLE_ARN, roleSessionName: 'w1', webIdentityToken: jwt({ sub: 's', iss: 'https://i' }) });
    expect(s.counts.total).toBe(4);
  });

  it.each([
    ['AccessDenied', 403],
    ['ValidationError', 400],
    ['InvalidClientTokenId', 403],
    ['ExpiredToken', 400],
    ['MalformedPolicyDocument', 400],
  ])('%s is never retried (1 request)', async (code, status) => {
    const s = await server();
    s.inject({ kind: 'error', status, code });
    await fail(clientFor(s, { maxRetries: 5 }).getCallerIdentity());
    expect(s.counts.total).toBe(1);
  });

  it('backoff: base × 2^n capped at maxDelay, then jitter; the jitter function sees each capped delay', async () => {
    const s = await server();
    s.inject({ kind: 'throttle' }, { kind: 'throttle' }, { kind: 'throttle' });
    const seen: number[] = [];
    await clientFor(s, { baseDelay: 100, maxDelay: 250, jitter: (d) => (seen.push(d), 0) }).getCallerIdentity();
    expect(seen).toEqual([100, 200, 250]);

    const policy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 100, maxDelayMs: 1000 };
    expect([1, 2, 3, 4, 5].map((n) => backoffDelayMs(n, { ...policy, jitter: 'none' }))).toEqual([100, 200, 400, 800, 1000]);
    expect(backoffDelayMs(3, { ...policy, jitter: 'full' }, () => 0.5)).toBe(200);
    expect(backoffDelayMs(3, { ...policy, jitter: 'full' }, () => 0)).toBe(0);
    expect(backoffDelayMs(3, { ...policy, jitter: 'equal' }, () => 0)).toBe(200);
    expect(backoffDelayMs(3, { ...policy, jitter: 'equal' }, () => 0.999)).toBeCloseTo(399.8);
  });

  it('bad retry options fail at construction, naming the option', () => {
    expect(() => new StsClient({ maxRetries: -1 })).toThrow(/option maxRetries must be a non-negative integer/);
    expect(() => new StsClient({ baseDelay: Number.NaN })).toThrow(/option baseDelay/);
    expect(() => new StsClient({ jitter: 'sometimes' as never })).toThrow(/option jitter must be 'none', 'equal', 'full' or a function/);
    expect(() => new StsClient({ timeout: 0 })).toThrow(/option timeout/);
  });
});

describe('timeouts and abort', () => {
  it('a slow answer times out per attempt and is retried; every attempt reached the server', async () => {
    const s = await server();
    s.inject({ kind: 'hang' }, { kind: 'hang' });
    const started = Date.now();
    const e = await fail(clientFor(s, { timeout: 100, maxRetries: 1 }).getCallerIdentity());
    expect(e).toMatchObject({ code: 'TimeoutError', retryable: true, statusCode: undefined });
    expect(e.message).toMatch(/timed out after 100 ms/);
    expect(s.counts.total).toBe(2);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('a delayed answer inside the timeout succeeds; a per-call timeout beats the client one', async () => {
    const s = await server();
    s.inject({ kind: 'delay', ms: 50 });
    await clientFor(s, { timeout: 2000 }).getCallerIdentity();
    s.inject({ kind: 'delay', ms: 1000 });
    const e = await fail(clientFor(s, { timeout: 5000, maxRetries: 0 }).getCallerIdentity({}, { timeout: 50 }));
    expect(e.code).toBe('TimeoutError');
  });

  it('aborting a call in flight rejects with RequestAborted at once and does not retry', async () => {
    const s = await server();
    s.inject({ kind: 'hang' });
    const controller = new AbortController();
    const call = clientFor(s, { timeout: 10_000 }).getCallerIdentity({}, { signal: controller.signal });
    await new Promise((r) => setTimeout(r, 30));
    controller.abort();
    const e = await fail(call);
    expect(e).toMatchObject({ code: 'RequestAborted', retryable: false });
    expect(s.counts.total).toBe(1);
  });

  it('aborting during the backoff sleep stops further attempts; a pre-aborted signal sends nothing', async () => {
    const s = await server();
    s.inject({ kind: 'throttle' });
    const controller = new AbortController();
    const call = clientFor(s, { baseDelay: 5000, jitter: 'none', signal: controller.signal }).getCallerIdentity();
    await new Promise((r) => setTimeout(r, 50));
    controller.abort();
    expect(await fail(call)).toMatchObject({ code: 'RequestAborted' });
    expect(s.counts.total).toBe(1);

    const pre = new AbortController();
    pre.abort();
    expect(await fail(clientFor(s).getCallerIdentity({}, { signal: pre.signal }))).toMatchObject({ code: 'RequestAborted' });
    expect(s.counts.total).toBe(1);
  });

  it('connection refused is a retryable NetworkingError', async () => {
    const s = await server();
    const url = s.url;
    await s.close();
    const e = await fail(new StsClient({ endpoint: url, region: 'us-west-2', env: {}, credentials: USER, maxRetries: 1, baseDelay: 0 }).getCallerIdentity());
    expect(e).toMatchObject({ code: 'NetworkingError', retryable: true });
    expect(e.message).toMatch(/ECONNREFUSED/);
  });
});

describe('clock skew', () => {
  it('adopts the server clock from its Date header and retries once, even with maxRetries 0', async () => {
    const serverAhead = 2 * 3600_000;
    const s = await server({ now: () => Date.now() + serverAhead });
    const { lines, logger } = captureLogger();
    const client = clientFor(s, { maxRetries: 0, logger });
    const out = await client.getCallerIdentity();
    expect(out.account).toBe('123456789012');
    expect(s.requests.map((r) => r.errorCode)).toEqual(['SignatureDoesNotMatch', undefined]);
    expect(Math.abs(client.clockSkewMs - serverAhead)).toBeLessThan(5000);
    expect(lines.filter((l) => /clock skew/.test(l))).toEqual([expect.stringMatching(/clock skew of (7199|7200|7201) s detected/)]);
    // Learned once: the next call needs one request.
    await client.getCallerIdentity();
    expect(s.counts.total).toBe(3);
  });

  it('does not retry a signature error when the clocks agree (a wrong key stays one request)', async () => {
    const s = await server();
    const client = clientFor(s, { credentials: { accessKeyId: USER.accessKeyId, secretAccessKey: 'wrong' } });
    await fail(client.getCallerIdentity());
    expect(s.counts.total).toBe(1);
    expect(client.clockSkewMs).toBe(0);
  });

  it('a one-off skewed Date (fault) is adopted once; the retry then fails and is not retried again', async () => {
    const s = await server();
    s.inject({ kind: 'skew', offsetMs: -3600_000 });
    const e = await fail(clientFor(s, { maxRetries: 3 }).getCallerIdentity());
    expect(e.code).toBe('SignatureDoesNotMatch');
    expect(s.counts.total).toBe(2);
  });
});
