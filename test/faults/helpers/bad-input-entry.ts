// The library pieces the bad-input child-process tests use, bundled by `runLibraryChild()`.
export { fromProcess } from '../../../src/providers/process.js';
export { fromTokenFile } from '../../../src/providers/token-file.js';
export { fromSso } from '../../../src/providers/sso.js';
export { fromContainerMetadata } from '../../../src/providers/container-metadata.js';
export { loadSharedConfig } from '../../../src/config/files.js';
export { fromIni } from '../../../src/providers/ini.js';
