// Everything the package root loads on first use, behind ONE dynamic import. One lazy target keeps
// the bundler from cutting the root's code into many small shared chunks (each costs a module load
// at import time); the price is that the first lazy call loads all of it (a few ms, once).
export { fromIni } from './providers/ini.js';
export { fromInstanceMetadata, regionFromInstanceMetadata } from './providers/instance-metadata.js';
export { fromContainerMetadata } from './providers/container-metadata.js';
export { fromProcess } from './providers/process.js';
export { fromSso } from './providers/sso.js';
export { fromLogin } from './providers/login.js';
export { loadSharedConfig } from './config/files.js';
export * as stsEngine from './sts/engine.js';

