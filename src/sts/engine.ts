// The heavy half of the STS client (validation tables, stubs, Query encoding, SigV4, XML, endpoint
// rules), loaded on the first call so that importing the package root stays cheap.
export { resolveEndpoint, resolveRegion } from './endpoints.js';
export { encodeStsRequest } from './query.js';
export { signRequest } from './signer.js';
export { runStub } from './stubs.js';
export { validateInput } from './validate.js';
export { asRequestId, parseStsXml, toOutput, UnreadableBody } from './xml.js';
