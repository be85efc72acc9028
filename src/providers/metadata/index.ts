// The metadata family: EC2 instance metadata (IMDS) and the ECS/EKS container endpoint, with static
// stability. Code outside this folder imports from here (the package root's eager side excepted: it
// takes the error classes, the off-host memory and extendedInfoOf from their own small files, so that
// importing the root never loads instance.ts or container.ts; those load on first use via heavy.ts).
export { fromInstanceMetadata, regionFromInstanceMetadata, type InstanceMetadataOptions, type InstanceRegionOptions, type MetadataProvider } from './instance.js';
export { fromContainerMetadata, type ContainerMetadataOptions } from './container.js';
export { MetadataConfigError, MetadataResponseError, type MetadataResponseErrorOptions } from './errors.js';
export type { MetadataHttpOptions } from './http.js';
export type { ProfileSettings, ProfileSettingsSource } from './endpoint.js';
export { forgetAbsentMetadataEndpoints } from './off-host.js';
export { extendedInfoOf, type ExtendedInfo, type StaticStabilityStatus } from './stability.js';
