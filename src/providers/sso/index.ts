// The SSO family: role credentials from the SSO portal with the token of `aws sso login`. Code outside
// this folder imports from here (the package root excepted: it takes the error classes from errors.ts,
// so that importing the root never loads sso.ts, which loads on first use via heavy.ts).
export { fromSso, type FromSsoOptions } from './sso.js';
export { SsoPortalError, SsoTokenError } from './errors.js';
