// The library pieces the metadata child-process tests use, bundled by `buildMetadataChild()`.
export { fromInstanceMetadata, regionFromInstanceMetadata } from '../../../../src/providers/metadata/instance.js';
export { fromContainerMetadata } from '../../../../src/providers/metadata/container.js';
