import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { StsClient, StsError, StsValidationError } from '../../src/sts/index.js';
import { captureLogger, clientFor, jwt, ROLE_ARN, server, USER } from './helpers.js';

describe('stubs', () => {
  it('stub: true answers every operation with plausible data and sends nothing', async () => {
    const nowMs = Date.UTC(2031, 0, 1);
    const client = new StsClient({ stub: true, now: () => nowMs, endpoint: 'http://127.0.0.1:9' });
    const role = await client.assumeRole({ roleArn: ROLE_ARN, roleSessionName: 'dev', durationSeconds: 1200 });
    expect(role.assumedRoleUser.arn).toBe('arn:aws:sts::111122223333:assumed-role/deploy/dev');
    expect(role.credentials.expiration).toEqual(new Date(nowMs + 1200_000));
    expect(role.credentials.accessKeyId).toMatch(/^ASIA[A-Z0-9]{16}$/);
    expect(inspect(role.credentials)).not.toContain(role.credentials.secretAccessKey);
    expect((await client.getCallerIdentity()).account).toMatch(/^\d{12}$/);
    expect((await client.getSessionToken()).credentials.expiration).toEqual(new Date(nowMs + 43200_000));
    expect((await client.getFederationToken({ name: 'bob' })).federatedUser.arn).toMatch(/federated-user\/bob$/);
    expect((await client.assumeRoleWithWebIdentity({ roleArn: ROLE_ARN, roleSessionName: 'w1', webIdentityToken: jwt({}) })).subjectFromWebIdentityToken).toBeTruthy();
    expect((await client.assumeRoleWithSAML({ roleArn: ROLE_ARN, principalArn: ROLE_ARN, samlAssertion: 'PHNhbWw+' })).subject).toBeTruthy();
    expect(JSON.parse((await client.decodeAuthorizationMessage({ encodedMessage: 'x' })).decodedMessage)).toHaveProperty('allowed');
    expect((await client.getAccessKeyInfo({ accessKeyId: 'AKIAIOSFODNN7EXAMPLE' })).account).toMatch(/^\d{12}$/);
  });

  it('per-operation stubs: data (merged over fake data), an Error, or a function of the input', async () => {
    const denied = new StsError({ code: 'AccessDenied', serviceMessage: 'nope', operation: 'AssumeRole', statusCode: 403 });
    const seen: unknown[] = [];
    const client = new StsClient({
      stub: {
        getCallerIdentity: { account: '000011112222', arn: 'arn:aws:iam::000011112222:user/me' },
        assumeRole: denied,
        getSessionToken: (input) => {
          seen.push(input);
          return { credentials: { accessKeyId: 'ASIASTUBBEDKEY000001', expiration: new Date(5000) } };
        },
      },
    });
    expect(await client.getCallerIdentity()).toMatchObject({ account: '000011112222', arn: 'arn:aws:iam::000011112222:user/me', userId: expect.any(String), requestId: expect.any(String) });
    await expect(client.assumeRole({ roleArn: ROLE_ARN, roleSessionName: 'dev' })).rejects.toBe(denied);
    const session = await client.getSessionToken({ durationSeconds: 900 });
    expect(seen).toEqual([{ durationSeconds: 900 }]);
    expect(session.credentials).toMatchObject({ accessKeyId: 'ASIASTUBBEDKEY000001', expiration: new Date(5000) });
    expect(session.credentials.secretAccessKey).toBeTruthy();
    expect(JSON.stringify(session)).not.toContain(session.credentials.secretAccessKey);
    // Unlisted operations get fake data, like the Ruby SDK's stub_responses.
    expect((await client.getAccessKeyInfo({ accessKeyId: 'AKIAIOSFODNN7EXAMPLE' })).account).toMatch(/^\d{12}$/);
  });

  it('validation still runs on stubbed calls', async () => {
    const client = new StsClient({ stub: true });
    await expect(client.assumeRole({ roleArn: ROLE_ARN, roleSessionName: 'x' })).rejects.toBeInstanceOf(StsValidationError);
  });
});

describe('logging', () => {
  it('one debug line per HTTP request with operation, region, endpoint, attempt, status, request id, latency; no secrets', async () => {
    const s = await server();
    s.inject({ kind: 'throttle' });
    const { lines, logger } = captureLogger();
    const client = clientFor(s, { logger });
    const out = await client.assumeRole({ roleArn: ROLE_ARN, roleSessionName: 'logged', externalId: 'external-id-secretish' });
    const requestLines = lines.filter((l) => / attempt=/.test(l));
    expect(requestLines).toHaveLength(2);
    expect(requestLines[0]).toMatch(
      new RegExp(`^sts: AssumeRole region=us-west-2 endpoint=${s.url}/ \\(option\\) attempt=1 status=400 requestId=${s.requests[0]!.requestId} latencyMs=\\d+ error=Throttling$`),
    );
    expect(requestLines[1]).toMatch(new RegExp(`attempt=2 status=200 requestId=${out.requestId} latencyMs=\\d+$`));
    expect(lines.some((l) => /retry 1 of 3 in \d+ ms after Throttling/.test(l))).toBe(true);
    const all = lines.join('\n');
    for (const secret of [USER.secretAccessKey, out.credentials.secretAccessKey, out.credentials.sessionToken!, 'Signature=', s.requests[1]!.headers.authorization as string])
      expect(all).not.toContain(secret);

    // Unsigned web identity calls never log the token either.
    const token = jwt({ sub: 'secret-subject-claim', iss: 'https://i' });
    await new StsClient({ endpoint: s.url, region: 'us-west-2', env: {}, logger }).assumeRoleWithWebIdentity({ roleArn: ROLE_ARN, roleSessionName: 'w1', webIdentityToken: token });
    expect(lines.join('\n')).not.toContain(token);
  });
});
