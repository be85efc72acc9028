// The STS-backed providers (role, web identity, token file, SAML, session and federation tokens), the
// STS session cache they share, MFA prompts and their error class. Code outside this folder imports
// from here. They use the STS client of src/sts/, which loads its own engine on the first call.
export { fromAssumeRole, type AssumeRoleOptions } from './assume-role.js';
export { fromWebIdentity, type WebIdentityOptions, type WebIdentityParameters } from './web-identity.js';
export { fromTokenFile, WebIdentityTokenFileError, type TokenFileOptions } from './token-file.js';
export { fromSaml, type SamlOptions } from './saml.js';
export { fromSessionToken, type SessionTokenOptions } from './session-token.js';
export { fromFederationToken, type FederationTokenOptions } from './federation-token.js';
export { StsCredentialsError, type StsCredentialsErrorInit } from './errors.js';
export type { StsProviderOptions, StsSessionProvider, RefreshTuning } from './provider.js';
export type { MfaOptions, TokenCodeFn } from './mfa.js';
export {
  configureStsSessionCache,
  clearStsSessionCache,
  stsSessionCacheInfo,
  type StsSessionCacheOptions,
  type StsSessionCacheInfo,
} from './session-cache.js';
