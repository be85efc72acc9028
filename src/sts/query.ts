import type { StsInput, StsOperationName } from './types.js';

/** A value the AWS Query protocol can serialize: scalars, lists (`.member.N`) and structures (`.Name`). */
export type QueryValue = string | number | boolean | Date | undefined | readonly QueryValue[] | { readonly [member: string]: QueryValue };

export const STS_API_VERSION = '2011-06-15';

/** RFC 3986 percent-encoding, as SigV4 and the Query protocol expect (`encodeURIComponent` leaves `!'()*`). */
function encode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function flatten(prefix: string, value: QueryValue, out: [string, string][]): void {
  if (value === undefined) return;
  if (value instanceof Date) {
    out.push([prefix, value.toISOString().replace(/\.\d{3}Z$/, 'Z')]);
  } else if (Array.isArray(value)) {
    // An empty list is sent as `Name=` so the service sees "set to empty", not "absent".
    if (value.length === 0) out.push([prefix, '']);
    value.forEach((item: QueryValue, i: number) => flatten(`${prefix}.member.${i + 1}`, item, out));
  } else if (typeof value === 'object') {
    for (const [member, inner] of Object.entries(value as Record<string, QueryValue>)) flatten(`${prefix}.${member}`, inner, out);
  } else {
    out.push([prefix, String(value)]);
  }
}

/** The form-urlencoded body `Action=…&Version=…&…` for a Query API call. */
export function encodeQuery(action: string, version: string, params: Readonly<Record<string, QueryValue>>): string {
  const pairs: [string, string][] = [
    ['Action', action],
    ['Version', version],
  ];
  for (const [name, value] of Object.entries(params)) flatten(name, value, pairs);
  return pairs.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&');
}

const tags = (list: StsInput<'assumeRole'>['tags']) => list?.map((t) => ({ Key: t.key, Value: t.value }));
const policyArns = (list: StsInput<'assumeRole'>['policyArns']) => list?.map((p) => ({ arn: p.arn }));

/** camelCase method input → STS wire member names, for each operation. */
const TO_WIRE: { [Op in StsOperationName]: (input: StsInput<Op>) => Record<string, QueryValue> } = {
  assumeRole: (i) => ({
    RoleArn: i.roleArn,
    RoleSessionName: i.roleSessionName,
    PolicyArns: policyArns(i.policyArns),
    Policy: i.policy,
    DurationSeconds: i.durationSeconds,
    Tags: tags(i.tags),
    TransitiveTagKeys: i.transitiveTagKeys,
    ExternalId: i.externalId,
    SerialNumber: i.serialNumber,
    TokenCode: i.tokenCode,
    SourceIdentity: i.sourceIdentity,
    ProvidedContexts: i.providedContexts?.map((c) => ({ ProviderArn: c.providerArn, ContextAssertion: c.contextAssertion })),
    MinimumSessionTokenSize: i.minimumSessionTokenSize,
  }),
  assumeRoleWithSAML: (i) => ({
    RoleArn: i.roleArn,
    PrincipalArn: i.principalArn,
    SAMLAssertion: i.samlAssertion,
    PolicyArns: policyArns(i.policyArns),
    Policy: i.policy,
    DurationSeconds: i.durationSeconds,
    MinimumSessionTokenSize: i.minimumSessionTokenSize,
  }),
  assumeRoleWithWebIdentity: (i) => ({
    RoleArn: i.roleArn,
    RoleSessionName: i.roleSessionName,
    WebIdentityToken: i.webIdentityToken,
    ProviderId: i.providerId,
    PolicyArns: policyArns(i.policyArns),
    Policy: i.policy,
    DurationSeconds: i.durationSeconds,
    MinimumSessionTokenSize: i.minimumSessionTokenSize,
  }),
  getSessionToken: (i) => ({
    DurationSeconds: i.durationSeconds,
    SerialNumber: i.serialNumber,
    TokenCode: i.tokenCode,
    MinimumSessionTokenSize: i.minimumSessionTokenSize,
  }),
  getFederationToken: (i) => ({
    Name: i.name,
    Policy: i.policy,
    PolicyArns: policyArns(i.policyArns),
    DurationSeconds: i.durationSeconds,
    Tags: tags(i.tags),
    MinimumSessionTokenSize: i.minimumSessionTokenSize,
  }),
  getCallerIdentity: () => ({}),
  decodeAuthorizationMessage: (i) => ({ EncodedMessage: i.encodedMessage }),
  getAccessKeyInfo: (i) => ({ AccessKeyId: i.accessKeyId }),
};

/** The request body for one STS operation. */
export function encodeStsRequest<Op extends StsOperationName>(op: Op, action: string, input: StsInput<Op>): string {
  return encodeQuery(action, STS_API_VERSION, (TO_WIRE[op] as (i: StsInput<Op>) => Record<string, QueryValue>)(input ?? ({} as StsInput<Op>)));
}
