// Public API. Heavy providers are exported through lazy-providers.ts so that importing the package
// root loads only what every user runs; their code loads on first call.
export type { Credentials, CredentialProvider } from './credentials.js';
export { makeCredentials, maskAccessKeyId } from './credentials.js';
export { CredentialsError, CredentialsNotFound, CredentialsNotFoundError, isNotFound, type CredentialsErrorOptions } from './errors.js';
export type { Logger } from './logger.js';
export type { Clock } from './clock.js';
export type { DiskCacheOption, DiskCacheSettings } from './cache/disk.js';
export { named, type InvalidatableProvider } from './provider.js';
export { chain, NoCredentialsError, type ChainProvider } from './chain.js';
export { refreshing, REFRESH_DEFAULTS, RenewalBackoffError, type RefreshingOptions, type RefreshingProvider, type RefreshingStatus } from './refreshing.js';
export { explain, type Explanation } from './explain.js';
export type { ProviderAttempt } from './trace.js';
export { fromStatic, type StaticCredentialsInput } from './providers/static.js';
export { fromEnv, type FromEnvOptions } from './providers/env.js';

export * from './sts/index.js';
export { fromAssumeRole, type AssumeRoleOptions } from './providers/assume-role.js';
export { fromWebIdentity, type WebIdentityOptions, type WebIdentityParameters } from './providers/web-identity.js';
export { fromTokenFile, WebIdentityTokenFileError, type TokenFileOptions } from './providers/token-file.js';
export { fromSaml, type SamlOptions } from './providers/saml.js';
export { fromSessionToken, type SessionTokenOptions } from './providers/session-token.js';
export { fromFederationToken, type FederationTokenOptions } from './providers/federation-token.js';
export { StsCredentialsError, type StsCredentialsErrorInit } from './providers/sts-errors.js';
export type { StsErrorInit } from './sts/errors.js';
export type { StsProviderOptions, StsSessionProvider, RefreshTuning } from './providers/sts-provider.js';
export type { MfaOptions, TokenCodeFn } from './providers/sts-mfa.js';
export {
  configureStsSessionCache,
  clearStsSessionCache,
  stsSessionCacheInfo,
  type StsSessionCacheOptions,
  type StsSessionCacheInfo,
} from './providers/sts-session-cache.js';
export { defaultChain, type DefaultChainOptions } from './default-chain.js';

export { fromIni, fromSso, fromInstanceMetadata, regionFromInstanceMetadata, fromContainerMetadata, fromProcess, loadSharedConfig } from './lazy-providers.js';
export type { FromIniOptions, IniStsOptions, IniSsoOptions } from './providers/ini.js';
export type { FromSsoOptions } from './providers/sso.js';
export { SsoTokenError, SsoPortalError } from './providers/sso-errors.js';
export { ProfileCredentialsError } from './providers/ini-errors.js';
export type { InstanceMetadataOptions } from './providers/instance-metadata.js';
export type { ContainerMetadataOptions } from './providers/container-metadata.js';
export type { FromProcessOptions } from './providers/process.js';
export { ProcessCredentialsError, type ProcessFailure } from './providers/process-errors.js';
export { MetadataResponseError, MetadataConfigError, type MetadataResponseErrorOptions } from './providers/metadata-errors.js';
export type { MetadataHttpOptions } from './providers/metadata-http.js';
export type { StaticStabilityStatus } from './providers/metadata-stability.js';
export type { ProfileSettings, ProfileSettingsSource } from './providers/metadata-endpoint.js';
export { forgetAbsentMetadataEndpoints } from './providers/metadata-off-host.js';
export type { SharedConfig, SharedConfigOptions, Env, ConfigLocations, ProfileNameSource, ServicesSections } from './config/files.js';
export type { Section, Sections } from './config/parse.js';
export {
  ConfigParseError,
  ConfigFileError,
  ProfileNotFoundError,
  ProfileSectionIgnoredError,
  ProfileConfigError,
  ProfileCycleError,
  UnsupportedProfileError,
} from './config/errors.js';
