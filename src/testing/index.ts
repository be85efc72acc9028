export { createFakeClock, type FakeClock } from './fake-clock.js';
export { mockProvider, type MockProvider, type MockAnswer, type MockProviderOptions } from './mock-provider.js';
export {
  startStsServer,
  STS_SERVER_DEFAULT_USER,
  type StsServer,
  type StsServerOptions,
  type StsServerUser,
  type StsServerRole,
  type StsFault,
  type StsRequestRecord,
  type StsIssuedCredentials,
  type WebIdentityVerdict,
} from './sts-server.js';
export { startImdsServer, IMDS_PATHS, type ImdsServer, type ImdsServerOptions } from './imds-server.js';
export { startContainerServer, type ContainerServer, type ContainerServerOptions } from './container-server.js';
export type { FakeCredentials, MetadataFault, MetadataLoggedRequest, MetadataServerBase } from './metadata-server-common.js';
export {
  startReplayServer,
  type ReplayServer,
  type ReplayServerOptions,
  type RecordedEvent,
  type RecordedTraffic,
  type ReplayedRequest,
} from './replay-server.js';
export { startOidcServer, type OidcServer, type OidcServerOptions, type OidcClient, type OidcFault, type OidcRequestRecord } from './oidc-server.js';
export { startSigninServer, generateDpopKey, type SigninServer, type SigninServerOptions, type SigninSession, type SigninFault, type SigninRequestRecord, type SigninIssued, type DpopVerdict } from './signin-server.js';
