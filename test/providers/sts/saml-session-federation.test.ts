import { inspect } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { providerNameOf } from '../../../src/provider.js';
import { fromAssumeRole } from '../../../src/providers/sts/assume-role.js';
import { fromFederationToken } from '../../../src/providers/sts/federation-token.js';
import { fromSaml } from '../../../src/providers/sts/saml.js';
import { fromSessionToken } from '../../../src/providers/sts/session-token.js';
import { MINUTE, ROLE, setup, USER } from './helpers.js';

const PRINCIPAL = 'arn:aws:iam::111122223333:saml-provider/Okta';
const assertion = (nameId: string, notOnOrAfter?: Date) =>
  Buffer.from(
    `<samlp:Response><saml:Assertion><saml:Issuer>https://idp.example.com</saml:Issuer><saml:Subject><saml:NameID>${nameId}</saml:NameID></saml:Subject>` +
      `<saml:AuthnStatement${notOnOrAfter ? ` SessionNotOnOrAfter="${notOnOrAfter.toISOString()}"` : ''}/></saml:Assertion></samlp:Response>`,
  ).toString('base64');

describe('fromSaml', () => {
  it('sends the assertion and parameters unsigned', async () => {
    const t = await setup();
    const p = fromSaml({ roleArn: ROLE('saml'), principalArn: PRINCIPAL, samlAssertion: assertion('alice'), policy: '{}', policyArns: [{ arn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }], durationSeconds: 2400, sts: t.sts, now: t.clock.now });
    expect(providerNameOf(p)).toBe('saml');
    const c = await p();
    expect(c.expiration?.getTime()).toBe(t.clock.now() + 2400_000);
    expect(t.server.requests[0]).toMatchObject({ signed: false });
    expect(t.server.requests[0]?.params).toMatchObject({
      Action: 'AssumeRoleWithSAML',
      RoleArn: ROLE('saml'),
      PrincipalArn: PRINCIPAL,
      SAMLAssertion: assertion('alice'),
      Policy: '{}',
      'PolicyArns.member.1.arn': 'arn:aws:iam::aws:policy/ReadOnlyAccess',
      DurationSeconds: '2400',
    });
  });

  it('calls the assertion function for each renewal and trusts the expiration STS returns (SessionNotOnOrAfter)', async () => {
    const t = await setup();
    const calls = vi.fn(async () => assertion(`user-${calls.mock.calls.length}`, new Date(t.clock.now() + 20 * MINUTE)));
    const p = fromSaml({ roleArn: ROLE('saml'), principalArn: PRINCIPAL, samlAssertion: calls, durationSeconds: 3600, sts: t.sts, now: t.clock.now, refresh: t.refresh });
    const first = await p();
    // The assertion's session ends in 20 minutes, before DurationSeconds: STS says so, we believe it.
    expect(first.expiration?.getTime()).toBe(t.clock.now() + 20 * MINUTE);
    await p();
    expect(calls).toHaveBeenCalledTimes(1);
    t.clock.advance(19 * MINUTE); // mandatory window of a 20-minute session
    const second = await p();
    expect(calls).toHaveBeenCalledTimes(2);
    expect(second.accessKeyId).not.toBe(first.accessKeyId);
    expect(t.server.requests.map((r) => r.params.SAMLAssertion)).toEqual([assertion('user-1', new Date(Date.UTC(2026, 0, 1, 12, 20))), assertion('user-2', new Date(Date.UTC(2026, 0, 1, 12, 39)))]);
  });

  it('a rejected assertion names role and code, never the assertion', async () => {
    const t = await setup();
    const bad = Buffer.from('SECRETASSERTION not xml').toString('base64');
    const p = fromSaml({ roleArn: ROLE('saml'), principalArn: PRINCIPAL, samlAssertion: bad, sts: t.sts });
    const error = (await p().catch((e: unknown) => e)) as Error;
    expect(error.message).toMatch(/saml: STS AssumeRoleWithSAML for role arn:aws:iam::111122223333:role\/saml failed: InvalidIdentityToken/);
    for (const text of [error.message, JSON.stringify(error), inspect(error)]) {
      expect(text).not.toContain(bad);
      expect(text).not.toContain('SECRETASSERTION');
    }
  });
});

describe('fromSessionToken', () => {
  it('GetSessionToken with MFA: serial and code sent, code asked once per renewal', async () => {
    const serial = 'arn:aws:iam::123456789012:mfa/alice';
    const t = await setup({ mfaTokenCodes: { [serial]: '123456' } });
    const tokenCode = vi.fn(async () => '123456');
    const p = fromSessionToken({ source: t.user, mfaSerial: serial, tokenCode, durationSeconds: 3600, sts: t.sts, now: t.clock.now, refresh: t.refresh });
    expect(providerNameOf(p)).toBe('session-token');
    const c = await p();
    await p();
    expect(c.expiration?.getTime()).toBe(t.clock.now() + 3600_000);
    expect(tokenCode).toHaveBeenCalledTimes(1);
    expect(t.server.requests[0]).toMatchObject({ action: 'GetSessionToken', accessKeyId: USER.accessKeyId, signatureValid: true });
    expect(t.server.requests[0]?.params).toMatchObject({ SerialNumber: serial, TokenCode: '123456', DurationSeconds: '3600' });
    t.clock.advance(55 * MINUTE);
    await p();
    expect(tokenCode).toHaveBeenCalledTimes(2);
    expect(t.server.counts.GetSessionToken).toBe(2);
  });

  it('without MFA; with session credentials as source STS refuses and the error says so', async () => {
    const t = await setup();
    const p = fromSessionToken({ source: t.user, sts: t.sts, now: t.clock.now });
    const c = await p();
    expect(c.expiration?.getTime()).toBe(t.clock.now() + 43200_000);
    expect(t.server.requests[0]?.params.SerialNumber).toBeUndefined();
    const role = fromAssumeRole({ roleArn: ROLE('r'), source: t.user, sts: t.sts, now: t.clock.now });
    const fromRole = fromSessionToken({ source: role, sts: t.sts, now: t.clock.now });
    await expect(fromRole()).rejects.toThrow(/session-token: STS GetSessionToken for a session failed: AccessDenied/);
    expect(() => fromSessionToken({ source: t.user, mfaSerial: 'GAHT12345678' })).toThrow(/tokenCode is not/);
  });
});

describe('fromFederationToken', () => {
  it('GetFederationToken with every parameter', async () => {
    const t = await setup();
    const p = fromFederationToken({
      source: t.user,
      name: 'app-user',
      policy: '{"Version":"2012-10-17","Statement":[]}',
      policyArns: [{ arn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }],
      tags: [{ key: 'team', value: 'web' }],
      durationSeconds: 7200,
      sts: t.sts,
      now: t.clock.now,
    });
    expect(providerNameOf(p)).toBe('federation-token');
    const c = await p();
    expect(c.expiration?.getTime()).toBe(t.clock.now() + 7200_000);
    expect(t.server.requests[0]).toMatchObject({ action: 'GetFederationToken', accessKeyId: USER.accessKeyId, signatureValid: true });
    expect(t.server.requests[0]?.params).toMatchObject({
      Name: 'app-user',
      Policy: '{"Version":"2012-10-17","Statement":[]}',
      'PolicyArns.member.1.arn': 'arn:aws:iam::aws:policy/ReadOnlyAccess',
      'Tags.member.1.Key': 'team',
      'Tags.member.1.Value': 'web',
      DurationSeconds: '7200',
    });
    expect(t.server.issued[0]?.arn).toBe('arn:aws:sts::123456789012:federated-user/app-user');
  });

  it('MalformedPolicyDocument names the federated user and the code', async () => {
    const t = await setup();
    const p = fromFederationToken({ source: t.user, name: 'app-user', policy: '{not json', sts: t.sts });
    await expect(p()).rejects.toThrow(/federation-token: STS GetFederationToken for federated user app-user failed: MalformedPolicyDocument/);
  });
});
