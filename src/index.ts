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
export {
  fromAssumeRole,
  fromWebIdentity,
  fromTokenFile,
  fromSaml,
  fromSessionToken,
  fromFederationToken,
  WebIdentityTokenFileError,
  StsCredentialsError,
  configureStsSessionCache,
  clearStsSessionCache,
  stsSessionCacheInfo,
  type AssumeRoleOptions,
  type WebIdentityOptions,
  type WebIdentityParameters,
  type TokenFileOptions,
  type SamlOptions,
  type SessionTokenOptions,
  type FederationTokenOptions,
  type StsCredentialsErrorInit,
  type StsProviderOptions,
  type StsSessionProvider,
  type RefreshTuning,
  type MfaOptions,
  type TokenCodeFn,
  type StsSessionCacheOptions,
  type StsSessionCacheInfo,
} from './providers/sts/index.js';
export type { StsErrorInit } from './sts/errors.js';
export { defaultChain, type DefaultChainOptions } from './default-chain.js';

export { fromIni, fromSso, fromInstanceMetadata, regionFromInstanceMetadata, fromContainerMetadata, fromProcess, loadSharedConfig } from './lazy-providers.js';
// The families that load on first use (lazy-providers.ts -> lazy.ts -> heavy.ts): their types from
// their index, their error classes (and the off-host memory) from their own small files, so that the
// root's import graph never reaches a provider of theirs (test/import-graph.test.ts checks it).
export type { FromIniOptions, IniStsOptions, IniSsoOptions } from './providers/profile/index.js';
export { ProfileCredentialsError } from './providers/profile/errors.js';
export type { FromSsoOptions } from './providers/sso/index.js';
export { SsoTokenError, SsoPortalError } from './providers/sso/errors.js';
export type { FromProcessOptions } from './providers/process/index.js';
export { ProcessCredentialsError, type ProcessFailure } from './providers/process/errors.js';
export type {
  InstanceMetadataOptions,
  ContainerMetadataOptions,
  MetadataHttpOptions,
  StaticStabilityStatus,
  ProfileSettings,
  ProfileSettingsSource,
} from './providers/metadata/index.js';
export { MetadataResponseError, MetadataConfigError, type MetadataResponseErrorOptions } from './providers/metadata/errors.js';
export { forgetAbsentMetadataEndpoints } from './providers/metadata/off-host.js';
export { fromLogin } from './lazy-providers.js';
export type { FromLoginOptions } from './providers/login/index.js';
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
