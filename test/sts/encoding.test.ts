import { describe, expect, it } from 'vitest';
import { readConformanceJson } from '../config/conformance.js';
import { encodeQuery, type QueryValue } from '../../src/sts/query.js';
import { StsClient } from '../../src/sts/index.js';
import { clientFor, jwt, ROLE_ARN, server } from './helpers.js';

const POLICY_ARN_A = 'arn:aws:iam::aws:policy/ReadOnlyAccess';
const POLICY_ARN_B = 'arn:aws:iam::111122223333:policy/extra';
const POLICY = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}';

describe('Query encoding of every parameter, as the server received it', () => {
  it('AssumeRole: scalars, Tags, TransitiveTagKeys, PolicyArns, ProvidedContexts', async () => {
    const s = await server();
    await clientFor(s).assumeRole({
      roleArn: ROLE_ARN,
      roleSessionName: 'sess@example.com',
      policyArns: [{ arn: POLICY_ARN_A }, { arn: POLICY_ARN_B }],
      policy: POLICY,
      durationSeconds: 3600,
      tags: [
        { key: 'team', value: 'infra + ops' },
        { key: 'cost:center', value: '42/a=b' },
      ],
      transitiveTagKeys: ['team', 'cost:center'],
      externalId: 'ext-id:1/2',
      serialNumber: 'arn:aws:iam::123456789012:mfa/alice',
      tokenCode: '012345',
      sourceIdentity: 'alice',
      providedContexts: [{ providerArn: 'arn:aws:iam::aws:contextProvider/IdentityCenter', contextAssertion: 'assertion-blob' }],
      minimumSessionTokenSize: 0,
    });
    expect(s.requests[0]!.params).toEqual({
      Action: 'AssumeRole',
      Version: '2011-06-15',
      RoleArn: ROLE_ARN,
      RoleSessionName: 'sess@example.com',
      'PolicyArns.member.1.arn': POLICY_ARN_A,
      'PolicyArns.member.2.arn': POLICY_ARN_B,
      Policy: POLICY,
      DurationSeconds: '3600',
      'Tags.member.1.Key': 'team',
      'Tags.member.1.Value': 'infra + ops',
      'Tags.member.2.Key': 'cost:center',
      'Tags.member.2.Value': '42/a=b',
      'TransitiveTagKeys.member.1': 'team',
      'TransitiveTagKeys.member.2': 'cost:center',
      ExternalId: 'ext-id:1/2',
      SerialNumber: 'arn:aws:iam::123456789012:mfa/alice',
      TokenCode: '012345',
      SourceIdentity: 'alice',
      'ProvidedContexts.member.1.ProviderArn': 'arn:aws:iam::aws:contextProvider/IdentityCenter',
      'ProvidedContexts.member.1.ContextAssertion': 'assertion-blob',
      MinimumSessionTokenSize: '0',
    });
    expect(s.requests[0]!.signatureValid).toBe(true);
  });

  it('AssumeRoleWithWebIdentity and AssumeRoleWithSAML', async () => {
    const s = await server();
    const client = new StsClient({ endpoint: s.url, region: 'us-west-2', env: {} });
    const token = jwt({ sub: 'u', iss: 'https://idp', aud: 'a' });
    await client.assumeRoleWithWebIdentity({
      roleArn: ROLE_ARN,
      roleSessionName: 'web',
      webIdentityToken: token,
      providerId: 'www.amazon.com',
      policyArns: [{ arn: POLICY_ARN_A }],
      policy: POLICY,
      durationSeconds: 900,
    });
    const saml = Buffer.from('<Response><NameID>x</NameID></Response>').toString('base64');
    await client.assumeRoleWithSAML({
      roleArn: ROLE_ARN,
      principalArn: 'arn:aws:iam::111122223333:saml-provider/corp',
      samlAssertion: saml,
      policyArns: [{ arn: POLICY_ARN_B }],
      durationSeconds: 1000,
    });
    expect(s.requests[0]!.params).toEqual({
      Action: 'AssumeRoleWithWebIdentity',
      Version: '2011-06-15',
      RoleArn: ROLE_ARN,
      RoleSessionName: 'web',
      WebIdentityToken: token,
      ProviderId: 'www.amazon.com',
      'PolicyArns.member.1.arn': POLICY_ARN_A,
      Policy: POLICY,
      DurationSeconds: '900',
    });
    expect(s.requests[1]!.params).toEqual({
      Action: 'AssumeRoleWithSAML',
      Version: '2011-06-15',
      RoleArn: ROLE_ARN,
      PrincipalArn: 'arn:aws:iam::111122223333:saml-provider/corp',
      SAMLAssertion: saml,
      'PolicyArns.member.1.arn': POLICY_ARN_B,
      DurationSeconds: '1000',
    });
  });

  it('GetSessionToken, GetFederationToken, DecodeAuthorizationMessage, GetAccessKeyInfo, GetCallerIdentity', async () => {
    const s = await server();
    const client = clientFor(s);
    await client.getSessionToken({ durationSeconds: 900, serialNumber: 'GAHT12345678', tokenCode: '999999' });
    await client.getFederationToken({ name: 'fed.user', policy: POLICY, policyArns: [{ arn: POLICY_ARN_A }], durationSeconds: 1200, tags: [{ key: 'k', value: '' }] });
    await client.decodeAuthorizationMessage({ encodedMessage: s.encodeAuthorizationMessage('{}') });
    await client.getAccessKeyInfo({ accessKeyId: 'AKIAIOSFODNN7EXAMPLE' });
    await client.getCallerIdentity();
    const [session, federation, decode, keyInfo, caller] = s.requests.map((r) => r.params);
    expect(session).toEqual({ Action: 'GetSessionToken', Version: '2011-06-15', DurationSeconds: '900', SerialNumber: 'GAHT12345678', TokenCode: '999999' });
    expect(federation).toEqual({
      Action: 'GetFederationToken',
      Version: '2011-06-15',
      Name: 'fed.user',
      Policy: POLICY,
      'PolicyArns.member.1.arn': POLICY_ARN_A,
      DurationSeconds: '1200',
      'Tags.member.1.Key': 'k',
      'Tags.member.1.Value': '',
    });
    expect(decode).toEqual({ Action: 'DecodeAuthorizationMessage', Version: '2011-06-15', EncodedMessage: s.requests[2]!.params.EncodedMessage });
    expect(keyInfo).toEqual({ Action: 'GetAccessKeyInfo', Version: '2011-06-15', AccessKeyId: 'AKIAIOSFODNN7EXAMPLE' });
    expect(caller).toEqual({ Action: 'GetCallerIdentity', Version: '2011-06-15' });
  });

  it('percent-encodes the RFC 3986 way (space %20, reserved characters escaped)', () => {
    expect(encodeQuery('A', 'V', { P: "a b+c/d=e&f!'()*~" })).toBe("Action=A&Version=V&P=a%20b%2Bc%2Fd%3De%26f%21%27%28%29%2A~");
  });
});

/** botocore's Query protocol input vectors that a schema-less encoder can express (no flattened lists, xmlName, blobs). */
describe('botocore query.json input conformance', () => {
  type Case = { id: string; given: { name: string }; params: Record<string, QueryValue>; serialized: { body?: string } };
  type Suite = { metadata: { apiVersion: string }; cases: Case[] };
  const suites = readConformanceJson<Suite[]>('botocore/protocols/input/query.json');
  const applicable = new Set([
    'NestedStructures',
    'QueryLists',
    'EmptyQueryLists',
    'QueryNestedStructWithList',
    'QuerySimpleInputParamsStrings',
    'QuerySimpleInputParamsStringAndBooleanTrue',
    'QuerySimpleInputParamsStringsAndBooleanFalse',
    'QuerySimpleInputParamsInteger',
    'QuerySimpleInputParamsFloat',
    'QueryEnums',
    'QueryIntEnums',
    'AwsQuerySupportsNaNFloatInputs',
    'AwsQuerySupportsInfinityFloatInputs',
    'AwsQuerySupportsNegativeInfinityFloatInputs',
    'QueryEmptyInputAndEmptyOutput',
    'QueryNoInputAndNoOutput',
    'QueryNoInputAndOutput',
  ]);
  const cases = suites.flatMap((s) => s.cases.filter((c) => applicable.has(c.id)).map((c) => ({ ...c, version: s.metadata.apiVersion })));

  it('covers the applicable cases', () => expect(cases.length).toBe(applicable.size));
  it.each(cases.map((c) => [c.id, c] as const))('%s', (_id, c) => {
    const sortPairs = (body: string) => body.split('&').sort();
    expect(sortPairs(encodeQuery(c.given.name, c.version, c.params))).toEqual(sortPairs(c.serialized.body!));
  });
});
