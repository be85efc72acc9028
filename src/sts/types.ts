import type { Credentials } from '../credentials.js';

/** A session tag. */
export interface StsTag {
  key: string;
  value: string;
}
/** A managed policy to use as a session policy. */
export interface StsPolicyDescriptor {
  arn: string;
}
/** A context assertion from a trusted context provider (e.g. IAM Identity Center's `ProvidedContexts`). */
export interface StsProvidedContext {
  providerArn: string;
  contextAssertion: string;
}

interface SessionPolicyInput {
  /** Managed policies (at most 10) that further limit the session. */
  policyArns?: readonly StsPolicyDescriptor[];
  /** An inline session policy, JSON, at most 2048 characters. */
  policy?: string;
  /** Ask STS for a session token of at least this many bytes (newer STS member; sent as given). */
  minimumSessionTokenSize?: number;
}

export interface AssumeRoleInput extends SessionPolicyInput {
  roleArn: string;
  roleSessionName: string;
  /** 900–43200 seconds; STS defaults to 3600. */
  durationSeconds?: number;
  tags?: readonly StsTag[];
  transitiveTagKeys?: readonly string[];
  externalId?: string;
  serialNumber?: string;
  tokenCode?: string;
  sourceIdentity?: string;
  providedContexts?: readonly StsProvidedContext[];
}

export interface AssumeRoleWithSAMLInput extends SessionPolicyInput {
  roleArn: string;
  principalArn: string;
  /** Base64-encoded SAML response from the IdP. Sent unsigned; never logged. */
  samlAssertion: string;
  durationSeconds?: number;
}

export interface AssumeRoleWithWebIdentityInput extends SessionPolicyInput {
  roleArn: string;
  roleSessionName: string;
  /** The OIDC/OAuth token. Sent unsigned; never logged. */
  webIdentityToken: string;
  /** Only for OAuth 2.0 providers (`www.amazon.com`, `graph.facebook.com`). */
  providerId?: string;
  durationSeconds?: number;
}

export interface GetSessionTokenInput {
  /** 900–129600 seconds; STS defaults to 43200. */
  durationSeconds?: number;
  serialNumber?: string;
  tokenCode?: string;
  minimumSessionTokenSize?: number;
}

export interface GetFederationTokenInput extends SessionPolicyInput {
  name: string;
  durationSeconds?: number;
  tags?: readonly StsTag[];
}

export interface DecodeAuthorizationMessageInput {
  encodedMessage: string;
}
export interface GetAccessKeyInfoInput {
  accessKeyId: string;
}

/** Present on every result: the `RequestId` STS returned. */
export interface StsResultMetadata {
  requestId: string;
}

export interface AssumedRoleUser {
  arn: string;
  assumedRoleId: string;
}
export interface FederatedUser {
  arn: string;
  federatedUserId: string;
}

interface CredentialsResult extends StsResultMetadata {
  /** Built with `makeCredentials`: secrets are masked when printed. `expiration` is set. */
  credentials: Credentials;
  sessionTokenUtilization?: number;
  sessionTokenSize?: number;
}

export interface AssumeRoleOutput extends CredentialsResult {
  assumedRoleUser: AssumedRoleUser;
  packedPolicySize?: number;
  sourceIdentity?: string;
}
export interface AssumeRoleWithSAMLOutput extends AssumeRoleOutput {
  subject?: string;
  subjectType?: string;
  issuer?: string;
  audience?: string;
  nameQualifier?: string;
}
export interface AssumeRoleWithWebIdentityOutput extends AssumeRoleOutput {
  subjectFromWebIdentityToken?: string;
  provider?: string;
  audience?: string;
}
export type GetSessionTokenOutput = CredentialsResult;
export interface GetFederationTokenOutput extends CredentialsResult {
  federatedUser: FederatedUser;
  packedPolicySize?: number;
}
export interface GetCallerIdentityOutput extends StsResultMetadata {
  userId: string;
  account: string;
  arn: string;
}
export interface DecodeAuthorizationMessageOutput extends StsResultMetadata {
  decodedMessage: string;
}
export interface GetAccessKeyInfoOutput extends StsResultMetadata {
  account: string;
}

/** Method name → [input, output]: the one table the client, stubs, validation and encoding share. */
export interface StsOperations {
  assumeRole: [AssumeRoleInput, AssumeRoleOutput];
  assumeRoleWithSAML: [AssumeRoleWithSAMLInput, AssumeRoleWithSAMLOutput];
  assumeRoleWithWebIdentity: [AssumeRoleWithWebIdentityInput, AssumeRoleWithWebIdentityOutput];
  getSessionToken: [GetSessionTokenInput, GetSessionTokenOutput];
  getFederationToken: [GetFederationTokenInput, GetFederationTokenOutput];
  getCallerIdentity: [Record<string, never>, GetCallerIdentityOutput];
  decodeAuthorizationMessage: [DecodeAuthorizationMessageInput, DecodeAuthorizationMessageOutput];
  getAccessKeyInfo: [GetAccessKeyInfoInput, GetAccessKeyInfoOutput];
}
export type StsOperationName = keyof StsOperations;
export type StsInput<Op extends StsOperationName> = StsOperations[Op][0];
export type StsOutput<Op extends StsOperationName> = StsOperations[Op][1];

/** The STS `Action` for each method, and whether it is SigV4-signed. */
export const OPERATIONS: { readonly [Op in StsOperationName]: { action: string; signed: boolean } } = {
  assumeRole: { action: 'AssumeRole', signed: true },
  assumeRoleWithSAML: { action: 'AssumeRoleWithSAML', signed: false },
  assumeRoleWithWebIdentity: { action: 'AssumeRoleWithWebIdentity', signed: false },
  getSessionToken: { action: 'GetSessionToken', signed: true },
  getFederationToken: { action: 'GetFederationToken', signed: true },
  getCallerIdentity: { action: 'GetCallerIdentity', signed: true },
  decodeAuthorizationMessage: { action: 'DecodeAuthorizationMessage', signed: true },
  getAccessKeyInfo: { action: 'GetAccessKeyInfo', signed: true },
};
