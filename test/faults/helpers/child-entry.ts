// The library pieces the child-process tests use, bundled by `buildChildEntry()`.
export { refreshing } from '../../../src/refreshing.js';
export { makeCredentials } from '../../../src/credentials.js';
export { fromInstanceMetadata } from '../../../src/providers/metadata/instance.js';
