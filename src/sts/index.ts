export { StsClient, type StsClientOptions, type StsCallOptions } from './client.js';
export { StsError, StsValidationError, isStsError, type StsErrorCode, type StsServiceErrorCode, type StsClientErrorCode } from './errors.js';
export type { Jitter } from './retry.js';
export type { StsStub, StsStubData, StsStubs } from './stubs.js';
export type { StsEndpoint } from './endpoints.js';
export type * from './types.js';
