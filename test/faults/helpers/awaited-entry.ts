// The library pieces the awaited-retries child tests use (STS-backed providers and SSO), bundled in
// both module formats by `test/faults/awaited-retries-sts-sso.test.ts`.
export { fromStatic } from '../../../src/providers/static.js';
export { fromAssumeRole } from '../../../src/providers/sts/assume-role.js';
export { fromWebIdentity } from '../../../src/providers/sts/web-identity.js';
export { fromSessionToken } from '../../../src/providers/sts/session-token.js';
export { fromSso } from '../../../src/providers/sso/sso.js';
export { StsClient } from '../../../src/sts/index.js';
