// The library pieces the bad-input child-process tests use, bundled by `runLibraryChild()`.
export { fromProcess } from '../../../src/providers/process/process.js';
export { fromTokenFile } from '../../../src/providers/sts/token-file.js';
export { fromSso } from '../../../src/providers/sso/sso.js';
export { fromContainerMetadata } from '../../../src/providers/metadata/container.js';
export { loadSharedConfig } from '../../../src/config/files.js';
export { fromIni } from '../../../src/providers/profile/ini.js';
