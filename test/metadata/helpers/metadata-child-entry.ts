// The library pieces the metadata child-process tests use, bundled by `buildMetadataChild()`.
export { fromInstanceMetadata, regionFromInstanceMetadata } from '../../../src/providers/instance-metadata.js';
export { fromContainerMetadata } from '../../../src/providers/container-metadata.js';
