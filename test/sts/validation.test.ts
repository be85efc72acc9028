import { describe, expect, it } from 'vitest';
import { StsValidationError, type StsOperationName } from '../../src/sts/index.js';
import { clientFor, ROLE_ARN, server } from './helpers.js';

const ROLE = { roleArn: ROLE_ARN, roleSessionName: 'session' };
const WEB = { ...ROLE, webIdentityToken: 'header.payload.signature' };
const SAML = { roleArn: ROLE_ARN, principalArn: 'arn:aws:iam::111122223333:saml-provider/corp', samlAssertion: 'PHNhbWw+' };

/** [operation, input, parameter named in the error, rule text expected]. */
const violations: [StsOperationName, Record<string, unknown>, string, RegExp][] = [
  ['assumeRole', { ...ROLE, durationSeconds: 899 }, 'DurationSeconds', /integer from 900 to 43200/],
  ['assumeRole', { ...ROLE, durationSeconds: 43201 }, 'DurationSeconds', /integer from 900 to 43200/],
  ['assumeRole', { ...ROLE, durationSeconds: 1000.5 }, 'DurationSeconds', /integer/],
  ['assumeRoleWithWebIdentity', { ...WEB, durationSeconds: 50000 }, 'DurationSeconds', /900 to 43200/],
  ['assumeRoleWithSAML', { ...SAML, durationSeconds: 600 }, 'DurationSeconds', /900 to 43200/],
  ['getSessionToken', { durationSeconds: 129601 }, 'DurationSeconds', /900 to 129600/],
  ['getFederationToken', { name: 'bob', durationSeconds: 899 }, 'DurationSeconds', /900 to 129600/],
  ['assumeRole', { ...ROLE, roleSessionName: 'a' }, 'RoleSessionName', /2–64 characters \(got 1\)/],
  ['assumeRole', { ...ROLE, roleSessionName: 'x'.repeat(65) }, 'RoleSessionName', /2–64 characters/],
  ['assumeRole', { ...ROLE, roleSessionName: 'has space' }, 'RoleSessionName', /letters, digits and _\+=,\.@-/],
  ['assumeRoleWithWebIdentity', { ...WEB, roleSessionName: 'a/b' }, 'RoleSessionName', /may contain only/],
  ['assumeRole', { ...ROLE, externalId: 'x' }, 'ExternalId', /2–1224 characters/],
  ['assumeRole', { ...ROLE, externalId: 'x'.repeat(1225) }, 'ExternalId', /2–1224/],
  ['assumeRole', { ...ROLE, externalId: 'bad id!' }, 'ExternalId', /_\+=,\.@:\/-/],
  ['assumeRole', { ...ROLE, serialNumber: 'short' }, 'SerialNumber', /9–256 characters/],
  ['getSessionToken', { serialNumber: 'arn:aws:iam::1:mfa/a b' }, 'SerialNumber', /may contain only/],
  ['assumeRole', { ...ROLE, tokenCode: '12345' }, 'TokenCode', /exactly 6 characters/],
  ['getSessionToken', { tokenCode: '12a456' }, 'TokenCode', /digits/],
  ['assumeRole', { ...ROLE, policy: 'x'.repeat(2049) }, 'Policy', /1–2048 characters/],
  ['getFederationToken', { name: 'bob', policy: '' }, 'Policy', /1–2048/],
  ['assumeRoleWithWebIdentity', { ...WEB, policy: '{"a":"\u2603"}' }, 'Policy', /U\+0020–U\+00FF/],
  ['assumeRole', { ...ROLE, policyArns: Array.from({ length: 11 }, () => ({ arn: 'arn:aws:iam::aws:policy/ReadOnly' })) }, 'PolicyArns', /at most 10 items \(got 11\)/],
  ['assumeRole', { ...ROLE, policyArns: [{ arn: 'arn:short' }] }, 'PolicyArns[0].arn', /20–2048/],
  ['assumeRole', { ...ROLE, tags: Array.from({ length: 51 }, (_, i) => ({ key: `k${i}`, value: 'v' })) }, 'Tags', /at most 50 items/],
  ['assumeRole', { ...ROLE, tags: [{ key: 'k'.repeat(129), value: 'v' }] }, 'Tags[0].Key', /1–128 characters/],
  ['getFederationToken', { name: 'bob', tags: [{ key: 'ok', value: 'v'.repeat(257) }] }, 'Tags[0].Value', /0–256 characters/],
  ['assumeRole', { ...ROLE, tags: [{ key: 'ok' }] }, 'Tags[0].Value', /is required/],
  ['assumeRole', { ...ROLE, tags: [{ key: 'a', value: 'b' }, { key: 'bad*key', value: 'b' }] }, 'Tags[1].Key', /may contain only/],
  ['assumeRole', { ...ROLE, transitiveTagKeys: ['ok', ''] }, 'TransitiveTagKeys[1]', /1–128/],
  ['assumeRole', { ...ROLE, sourceIdentity: 'x' }, 'SourceIdentity', /2–64/],
  ['assumeRole', { ...ROLE, providedContexts: [{ providerArn: ROLE_ARN }] }, 'ProvidedContexts[0].ContextAssertion', /is required/],
  ['assumeRole', { ...ROLE, providedContexts: Array.from({ length: 6 }, () => ({ providerArn: ROLE_ARN, contextAssertion: 'abcd' })) }, 'ProvidedContexts', /at most 5/],
  ['getFederationToken', { name: 'b' }, 'Name', /2–32 characters/],
  ['getFederationToken', { name: 'x'.repeat(33) }, 'Name', /2–32/],
  ['getFederationToken', { name: 'has space' }, 'Name', /may contain only/],
  ['assumeRole', { ...ROLE, roleArn: 'arn:aws:iam::1:r' }, 'RoleArn', /20–2048 characters/],
  ['assumeRole', { ...ROLE, roleArn: `arn:aws:iam::111122223333:role/${'x'.repeat(2048)}` }, 'RoleArn', /20–2048/],
  ['assumeRole', { roleSessionName: 'session' }, 'RoleArn', /is required/],
  ['assumeRoleWithSAML', { ...SAML, principalArn: undefined }, 'PrincipalArn', /is required/],
  ['assumeRoleWithSAML', { ...SAML, samlAssertion: 'abc' }, 'SAMLAssertion', /4–100000/],
  ['assumeRoleWithWebIdentity', { ...WEB, webIdentityToken: 'abc' }, 'WebIdentityToken', /4–20000/],
  ['assumeRoleWithWebIdentity', { ...WEB, providerId: 'abc' }, 'ProviderId', /4–2048/],
  ['decodeAuthorizationMessage', { encodedMessage: '' }, 'EncodedMessage', /1–10240/],
  ['getAccessKeyInfo', { accessKeyId: 'AKIA-SHORT' }, 'AccessKeyId', /16–128/],
  ['assumeRole', { ...ROLE, roleARN: ROLE_ARN }, 'roleARN', /is not a parameter of AssumeRole/],
];

describe('validation before sending', () => {
  it.each(violations.map((v) => [`${v[0]} ${v[2]}`, ...v] as const))('%s', async (_name, op, input, parameter, rule) => {
    const s = await server();
    const error = await clientFor(s)
      .send(op, input as never)
      .then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(StsValidationError);
    expect(error).toMatchObject({ parameter, code: 'ValidationError' });
    expect((error as StsValidationError).rule).toMatch(rule);
    expect((error as Error).message).toContain(`invalid parameter ${parameter}: `);
    expect(s.counts.total).toBe(0);
  });

  it('never echoes the rejected value (it may be a token)', async () => {
    const s = await server();
    const secretish = 'sEcReT-token-value-that-must-not-leak'.repeat(700); // > 20000 characters
    const error = await clientFor(s)
      .assumeRoleWithWebIdentity({ ...WEB, webIdentityToken: secretish })
      .then(() => undefined, (e: Error) => e);
    expect(error).toBeInstanceOf(StsValidationError);
    expect(error!.message).not.toContain('sEcReT');
  });

  it('boundary values pass', async () => {
    const s = await server({ roles: { [ROLE_ARN]: { maxSessionDurationSeconds: 43200 } } });
    const client = clientFor(s);
    await client.assumeRole({ ...ROLE, roleSessionName: 'ab', durationSeconds: 43200, externalId: 'ab', tags: Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: '' })) });
    await client.getSessionToken({ durationSeconds: 900 });
    await client.getFederationToken({ name: 'x'.repeat(32), durationSeconds: 129600 });
    expect(s.counts.total).toBe(3);
  });

  it('validate: false sends what it is given and lets STS judge', async () => {
    const s = await server();
    const error = await clientFor(s, { validate: false, maxRetries: 0 })
      .assumeRole({ ...ROLE, durationSeconds: 100 })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ValidationError', statusCode: 400 });
    expect(error).not.toBeInstanceOf(StsValidationError);
    expect(s.requests[0]!.params.DurationSeconds).toBe('100');
  });
});
