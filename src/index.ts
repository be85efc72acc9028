export type { Credentials, CredentialProvider } from './credentials.js';
export { maskAccessKeyId } from './credentials.js';
export { CredentialsError, CredentialsNotFound, CredentialsNotFoundError, isNotFound } from './errors.js';
export type { Logger } from './logger.js';
export type { Clock } from './clock.js';
export { named } from './provider.js';
export { chain, NoCredentialsError, type ChainProvider } from './chain.js';
export { refreshing, type RefreshingOptions, type RefreshingProvider, type RefreshingStatus } from './refreshing.js';
export { explain, type Explanation } from './explain.js';
export type { ProviderAttempt } from './trace.js';
export { fromStatic, type StaticCredentialsInput } from './providers/static.js';
export { fromEnv, type FromEnvOptions } from './providers/env.js';
export * from './sts/index.js';
export { fromInstanceMetadata, regionFromInstanceMetadata, isImdsDisabled, type InstanceMetadataOptions } from './providers/instance-metadata.js';
export { fromContainerMetadata, type ContainerMetadataOptions } from './providers/container-metadata.js';
export { resolveImdsEndpoint, type ImdsEndpointInput, type ProfileSettings, type ProfileSettingsSource } from './providers/metadata-endpoint.js';
export { MetadataResponseError, MetadataConfigError } from './providers/metadata-errors.js';
export { forgetAbsentMetadataEndpoints } from './providers/metadata-off-host.js';
export { loadSharedConfig, getProfileSetting, getServiceSetting, clearSharedConfigCache } from './config/files.js';
export type { SharedConfig, SharedConfigOptions } from './config/files.js';
export { planProfile } from './config/plan.js';
export type { CredentialPlan, BaseSource, RoleHop } from './config/plan.js';
export {
  ConfigParseError,
  ConfigFileError,
  ProfileNotFoundError,
  ProfileConfigError,
  ProfileCycleError,
  UnsupportedProfileError,
} from './config/errors.js';
export { fromProcess, ProcessCredentialsError } from './providers/process.js';
