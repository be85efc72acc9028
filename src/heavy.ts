// The providers the package root loads on first use (through lazy.ts), behind ONE dynamic import. One
// lazy target keeps the bundler from cutting the root's code into many small shared chunks (each costs
// a module load at import time); the price is that the first lazy call loads all of it (a few ms, once).
// The STS client's engine is the one other lazy target: sts/client.ts loads it itself (no import circle).
export { fromIni } from './providers/profile/index.js';
export { fromInstanceMetadata, regionFromInstanceMetadata, fromContainerMetadata } from './providers/metadata/index.js';
export { fromProcess } from './providers/process/index.js';
export { fromSso } from './providers/sso/index.js';
export { fromLogin } from './providers/login/index.js';
export { loadSharedConfig } from './config/files.js';

