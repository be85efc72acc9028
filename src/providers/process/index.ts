// The process family: `credential_process` commands, run without a shell. Code outside this folder
// imports from here (the package root excepted: it takes ProcessCredentialsError from errors.ts, so
// that importing the root never loads process.ts, which loads on first use via heavy.ts).
export { fromProcess, type FromProcessOptions } from './process.js';
export { ProcessCredentialsError, type ProcessFailure } from './errors.js';
