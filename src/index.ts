export type { Credentials, CredentialProvider } from './credentials.js';
export { maskAccessKeyId } from './credentials.js';
export { CredentialsError, CredentialsNotFound, CredentialsNotFoundError, isNotFound } from './errors.js';
export type { Logger } from './logger.js';
