import { makeCredentials, type Credentials } from '../credentials.js';
import { accountIdFromArn } from './xml.js';
import type { StsInput, StsOperationName, StsOutput } from './types.js';

/** What a stub may give for an operation: (partial) data, an error to throw, or a function of the input. */
export type StsStub<Op extends StsOperationName> =
  | StsStubData<Op>
  | Error
  | ((input: StsInput<Op>) => StsStubData<Op> | Promise<StsStubData<Op>>);

/** Partial output; missing fields are filled with plausible fake data. `credentials` may be a plain object. */
export type StsStubData<Op extends StsOperationName> = Partial<Omit<StsOutput<Op>, 'credentials'>> & {
  credentials?: Partial<Credentials>;
};

/** `true` stubs every operation with fake data; an object answers the listed ones as given and the others with fake data (as Ruby's `stub_responses`). */
export type StsStubs = true | { [Op in StsOperationName]?: StsStub<Op> };

const STUB_ACCOUNT = '123456789012';
// Fake data needs no cryptographic randomness, and Math.random keeps node:crypto off the import path.
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const randomText = (alphabet: string, length: number) =>
  Array.from({ length }, () => alphabet[Math.floor(Math.random() * alphabet.length)]).join('');
const id = (prefix: string, length: number) => prefix + randomText(UPPER, length);

function fakeCredentials(durationSeconds: number | undefined, defaultSeconds: number, nowMs: number, accountId?: string): Credentials {
  return makeCredentials({
    accessKeyId: id('ASIA', 16),
    secretAccessKey: randomText(BASE64, 40),
    sessionToken: `stub-session-token-${randomText(BASE64, 32)}`,
    expiration: new Date(nowMs + (durationSeconds ?? defaultSeconds) * 1000),
    ...(accountId ? { accountId } : {}),
  });
}

function roleName(roleArn: string | undefined): string {
  return roleArn?.split('/').pop() || 'stub-role';
}

function assumed(roleArn: string | undefined, sessionName: string) {
  const account = accountIdFromArn(roleArn) ?? STUB_ACCOUNT;
  return {
    arn: `arn:aws:sts::${account}:assumed-role/${roleName(roleArn)}/${sessionName}`,
    assumedRoleId: `${id('AROA', 17)}:${sessionName}`,
    account,
  };
}

/** Plausible fake results for each operation, shaped by the input (role, session name, duration). */
const FAKES: { [Op in StsOperationName]: (input: StsInput<Op>, nowMs: number) => StsOutput<Op> } = {
  assumeRole: (i, now) => {
    const user = assumed(i.roleArn, i.roleSessionName ?? 'stub-session');
    return {
      requestId: 'stub-request-id',
      credentials: fakeCredentials(i.durationSeconds, 3600, now, user.account),
      assumedRoleUser: { arn: user.arn, assumedRoleId: user.assumedRoleId },
      ...(i.sourceIdentity ? { sourceIdentity: i.sourceIdentity } : {}),
    };
  },
  assumeRoleWithSAML: (i, now) => {
    const user = assumed(i.roleArn, 'stub-saml-user');
    return {
      requestId: 'stub-request-id',
      credentials: fakeCredentials(i.durationSeconds, 3600, now, user.account),
      assumedRoleUser: { arn: user.arn, assumedRoleId: user.assumedRoleId },
      subject: 'stub-saml-user',
      subjectType: 'persistent',
      issuer: 'https://idp.example.com/saml',
      audience: 'https://signin.aws.amazon.com/saml',
      nameQualifier: 'stub-name-qualifier',
    };
  },
  assumeRoleWithWebIdentity: (i, now) => {
    const user = assumed(i.roleArn, i.roleSessionName ?? 'stub-session');
    return {
      requestId: 'stub-request-id',
      credentials: fakeCredentials(i.durationSeconds, 3600, now, user.account),
      assumedRoleUser: { arn: user.arn, assumedRoleId: user.assumedRoleId },
      subjectFromWebIdentityToken: 'stub-subject',
      provider: i.providerId ?? 'https://oidc.example.com',
      audience: 'sts.amazonaws.com',
    };
  },
  getSessionToken: (i, now) => ({ requestId: 'stub-request-id', credentials: fakeCredentials(i.durationSeconds, 43200, now) }),
  getFederationToken: (i, now) => ({
    requestId: 'stub-request-id',
    credentials: fakeCredentials(i.durationSeconds, 43200, now, STUB_ACCOUNT),
    federatedUser: { arn: `arn:aws:sts::${STUB_ACCOUNT}:federated-user/${i.name}`, federatedUserId: `${STUB_ACCOUNT}:${i.name}` },
  }),
  getCallerIdentity: () => ({
    requestId: 'stub-request-id',
    userId: 'AIDASTUBUSEREXAMPLE',
    account: STUB_ACCOUNT,
    arn: `arn:aws:iam::${STUB_ACCOUNT}:user/stub-user`,
  }),
  decodeAuthorizationMessage: () => ({
    requestId: 'stub-request-id',
    decodedMessage: JSON.stringify({ allowed: false, explicitDeny: false, matchedStatements: { items: [] } }),
  }),
  getAccessKeyInfo: () => ({ requestId: 'stub-request-id', account: STUB_ACCOUNT }),
};

/** The result for a stubbed call: user data merged over fake data, credentials rebuilt with masking. */
export async function runStub<Op extends StsOperationName>(
  op: Op,
  stub: StsStub<Op> | undefined,
  input: StsInput<Op>,
  nowMs: number,
): Promise<StsOutput<Op>> {
  if (stub instanceof Error) throw stub;
  const data = typeof stub === 'function' ? await stub(input) : stub;
  const fake = (FAKES[op] as (i: StsInput<Op>, n: number) => StsOutput<Op>)((input ?? {}) as StsInput<Op>, nowMs);
  const merged = { ...fake, ...(data ?? {}) } as StsOutput<Op> & { credentials?: Credentials };
  const given = (data as { credentials?: Partial<Credentials> } | undefined)?.credentials;
  if (given && 'credentials' in fake) {
    merged.credentials = makeCredentials({ ...(fake as { credentials: Credentials }).credentials, ...given });
  }
  return merged;
}
