import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { StsClient, StsError } from '../../src/sts/index.js';
import { clientFor, jwt, ROLE_ARN, server, USER } from './helpers.js';

const SAML = Buffer.from(
  '<samlp:Response><saml:Issuer>https://idp.example.com/metadata</saml:Issuer><saml:Assertion>' +
    '<saml:Subject><saml:NameID>alice@example.com</saml:NameID></saml:Subject>' +
    '<saml:Audience>https://signin.aws.amazon.com/saml</saml:Audience></saml:Assertion></samlp:Response>',
).toString('base64');

describe('StsClient operations against the local STS', () => {
  it('GetCallerIdentity returns the caller and the request id the server sent', async () => {
    const s = await server();
    const out = await clientFor(s).getCallerIdentity();
    expect(out).toEqual({
      requestId: s.requests[0]!.requestId,
      userId: expect.stringMatching(/^AIDA/),
      account: '123456789012',
      arn: `arn:aws:iam::123456789012:user/${USER.accessKeyId}`,
    });
    expect(s.requests[0]).toMatchObject({ action: 'GetCallerIdentity', signed: true, signatureValid: true, signingRegion: 'us-west-2' });
  });

  it('AssumeRole issues credentials the server then accepts for signed calls', async () => {
    let nowMs = Date.UTC(2030, 0, 1, 12);
    const s = await server({ now: () => nowMs });
    const client = clientFor(s, { now: () => nowMs });
    const out = await client.assumeRole({ roleArn: ROLE_ARN, roleSessionName: 'ci-run', durationSeconds: 1800, sourceIdentity: 'alice' });
    expect(out.assumedRoleUser.arn).toBe('arn:aws:sts::111122223333:assumed-role/deploy/ci-run');
    expect(out.assumedRoleUser.assumedRoleId).toMatch(/^AROA\w+:ci-run$/);
    expect(out.sourceIdentity).toBe('alice');
    expect(out.requestId).toBe(s.requests[0]!.requestId);
    expect(out.credentials.expiration).toEqual(new Date(nowMs + 1800_000));
    expect(out.credentials.accountId).toBe('111122223333');
    expect(out.credentials.accessKeyId).toBe(s.issued[0]!.accessKeyId);
    // Printing never shows the secret or the token.
    const printed = [inspect(out), JSON.stringify(out), String(out.credentials)].join('\n');
    expect(printed).not.toContain(out.credentials.secretAccessKey);
    expect(printed).not.toContain(out.credentials.sessionToken!);

    const asRole = clientFor(s, { credentials: out.credentials, now: () => nowMs });
    const me = await asRole.getCallerIdentity();
    expect(me.arn).toBe(out.assumedRoleUser.arn);
    expect(me.account).toBe('111122223333');
    expect(s.requests[1]!.headers['x-amz-security-token']).toBe(out.credentials.sessionToken);

    nowMs += 1801_000;
    const expired = await asRole.getCallerIdentity().catch((e: unknown) => e);
    expect(expired).toBeInstanceOf(StsError);
    expect(expired).toMatchObject({ code: 'ExpiredToken', statusCode: 400, retryable: false, requestId: s.requests[2]!.requestId });
  });

  it('AssumeRoleWithWebIdentity is sent unsigned and returns the token claims', async () => {
    const s = await server();
    const client = new StsClient({ endpoint: s.url, region: 'eu-west-1', env: {} }); // no credentials at all
    const token = jwt({ sub: 'system:serviceaccount:ns:app', aud: 'sts.amazonaws.com', iss: 'https://oidc.example.com/id/ABC' });
    const out = await client.assumeRoleWithWebIdentity({ roleArn: ROLE_ARN, roleSessionName: 'pod', webIdentityToken: token, durationSeconds: 900 });
    expect(out).toMatchObject({
      subjectFromWebIdentityToken: 'system:serviceaccount:ns:app',
      provider: 'oidc.example.com/id/ABC',
      audience: 'sts.amazonaws.com',
      assumedRoleUser: { arn: 'arn:aws:sts::111122223333:assumed-role/deploy/pod' },
    });
    expect(s.requests[0]).toMatchObject({ signed: false, action: 'AssumeRoleWithWebIdentity' });
    expect(s.requests[0]!.headers.authorization).toBeUndefined();
    expect(s.issued[0]!.expiresAtMs - out.credentials.expiration!.getTime()).toBe(0);
  });

  it('AssumeRoleWithSAML is sent unsigned and returns the SAML fields', async () => {
    const s = await server();
    const client = new StsClient({ endpoint: s.url, region: 'eu-west-1', env: {} });
    const out = await client.assumeRoleWithSAML({
      roleArn: ROLE_ARN,
      principalArn: 'arn:aws:iam::111122223333:saml-provider/corp',
      samlAssertion: SAML,
    });
    expect(out).toMatchObject({
      subject: 'alice@example.com',
      subjectType: 'persistent',
      issuer: 'https://idp.example.com/metadata',
      audience: 'https://signin.aws.amazon.com/saml',
      nameQualifier: expect.any(String),
      assumedRoleUser: { arn: 'arn:aws:sts::111122223333:assumed-role/deploy/alice@example.com' },
    });
    expect(s.requests[0]!.signed).toBe(false);
  });

  it('GetSessionToken honours durationSeconds and MFA, and the session credentials work', async () => {
    const nowMs = Date.UTC(2030, 5, 1);
    const s = await server({ now: () => nowMs, mfaTokenCodes: { 'arn:aws:iam::123456789012:mfa/alice': '123456' } });
    const client = clientFor(s, { now: () => nowMs });
    const out = await client.getSessionToken({ durationSeconds: 129600, serialNumber: 'arn:aws:iam::123456789012:mfa/alice', tokenCode: '123456' });
    expect(out.credentials.expiration).toEqual(new Date(nowMs + 129600_000));
    expect(out.credentials.sessionToken).toBeTruthy();
    const wrongCode = await client
      .getSessionToken({ serialNumber: 'arn:aws:iam::123456789012:mfa/alice', tokenCode: '654321' })
      .catch((e: unknown) => e);
    expect(wrongCode).toMatchObject({ code: 'AccessDenied', statusCode: 403 });
    const session = await clientFor(s, { credentials: out.credentials, now: () => nowMs }).getCallerIdentity();
    expect(session.arn).toBe(`arn:aws:iam::123456789012:user/${USER.accessKeyId}`);
  });

  it('GetFederationToken returns the federated user and packed policy size', async () => {
    const s = await server();
    const out = await clientFor(s).getFederationToken({
      name: 'bob',
      policy: '{"Version":"2012-10-17","Statement":[]}',
      tags: [{ key: 'team', value: 'infra' }],
    });
    expect(out.federatedUser).toEqual({ arn: 'arn:aws:sts::123456789012:federated-user/bob', federatedUserId: '123456789012:bob' });
    expect(out.packedPolicySize).toBeGreaterThan(0);
    expect(out.credentials.accountId).toBe('123456789012');
    expect(out.credentials.expiration!.getTime() - Date.now()).toBeGreaterThan(43000_000);
  });

  it('DecodeAuthorizationMessage returns the decoded message', async () => {
    const s = await server();
    const decoded = '{"allowed":false,"explicitDeny":true}';
    const out = await clientFor(s).decodeAuthorizationMessage({ encodedMessage: s.encodeAuthorizationMessage(decoded) });
    expect(out.decodedMessage).toBe(decoded);
    const bad = await clientFor(s).decodeAuthorizationMessage({ encodedMessage: 'not-a-message' }).catch((e: unknown) => e);
    expect(bad).toMatchObject({ code: 'InvalidAuthorizationMessageException', statusCode: 400 });
  });

  it('GetAccessKeyInfo returns the owning account', async () => {
    const s = await server({ users: { AKIAOTHERACCOUNT0001: { secretAccessKey: 'x'.repeat(40), account: '999988887777' }, [USER.accessKeyId]: USER.secretAccessKey } });
    const out = await clientFor(s).getAccessKeyInfo({ accessKeyId: 'AKIAOTHERACCOUNT0001' });
    expect(out).toEqual({ requestId: s.requests[0]!.requestId, account: '999988887777' });
  });

  it('each call is signed afresh with what the credential provider returns at that moment', async () => {
    const s = await server({ users: { AKIAFIRSTKEY00000001: 'first-secret-0000000000000000000000000', AKIASECONDKEY0000001: 'second-secret-000000000000000000000000' } });
    let which = 'AKIAFIRSTKEY00000001';
    const client = clientFor(s, {
      credentials: async () => ({
        accessKeyId: which,
        secretAccessKey: which === 'AKIAFIRSTKEY00000001' ? 'first-secret-0000000000000000000000000' : 'second-secret-000000000000000000000000',
      }),
    });
    await client.getCallerIdentity();
    which = 'AKIASECONDKEY0000001';
    await client.getCallerIdentity();
    expect(s.requests.map((r) => [r.accessKeyId, r.signatureValid])).toEqual([
      ['AKIAFIRSTKEY00000001', true],
      ['AKIASECONDKEY0000001', true],
    ]);
  });

  it('role chaining keeps the 1-hour limit the server enforces', async () => {
    const s = await server({ roles: { [ROLE_ARN]: { maxSessionDurationSeconds: 43200 } } });
    const first = await clientFor(s).assumeRole({ roleArn: ROLE_ARN, roleSessionName: 'one', durationSeconds: 7200 });
    expect(first.credentials.expiration!.getTime() - Date.now()).toBeGreaterThan(7000_000);
    const chained = await clientFor(s, { credentials: first.credentials })
      .assumeRole({ roleArn: ROLE_ARN, roleSessionName: 'two', durationSeconds: 7200 })
      .catch((e: unknown) => e);
    expect(chained).toMatchObject({ code: 'ValidationError', statusCode: 400 });
  });

  it('signed operations without credentials fail before sending, naming the option', async () => {
    const s = await server();
    const client = new StsClient({ endpoint: s.url, region: 'us-west-2', env: {} });
    await expect(client.getCallerIdentity()).rejects.toThrow(/GetCallerIdentity is a signed operation and needs credentials/);
    expect(s.counts.total).toBe(0);
  });
});
