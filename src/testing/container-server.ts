import type { Clock } from '../clock.js';
import {
  credentialsDocument,
  numberedCredentials,
  startMetadataServer,
  withExtras,
  type FakeCredentials,
  type MetadataAnswer,
  type MetadataServerBase,
} from './metadata-server-common.js';

export interface ContainerServerOptions {
  /** The credentials path. @default '/v2/credentials/credchain-test' */
  readonly path?: string;
  /** When set, requests must carry exactly this `Authorization` header, else 401. */
  readonly authorizationToken?: string;
  /** Fixed credentials; by default each answer hands out new numbered ones (`ASIACONT00000001`, ...). */
  readonly credentials?: FakeCredentials;
  /** Lifetime of each answer; negative for credentials that are already expired. @default 21600 */
  readonly credentialsLifetimeSeconds?: number;
  /** Server clock for `Expiration`. @default Date.now */
  readonly now?: Clock;
}

export interface ContainerServer extends MetadataServerBase {
  /** The credentials path, for `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`. */
  readonly path: string;
  /** The full credentials URL, for `AWS_CONTAINER_CREDENTIALS_FULL_URI`. */
  readonly url: string;
  /** Requests that carried the expected Authorization header (all of them when none is required). */
  readonly authorizedRequests: number;
  setAuthorizationToken(token: string | undefined): void;
  setCredentialsLifetimeSeconds(seconds: number): void;
}

/**
 * A local container credentials endpoint (ECS task role or EKS Pod Identity agent) on a random
 * loopback port, with Authorization checks, a request log and the same faults as the IMDS server.
 */
export async function startContainerServer(options: ContainerServerOptions = {}): Promise<ContainerServer> {
  const now = options.now ?? (() => Date.now());
  const path = options.path ?? '/v2/credentials/credchain-test';
  let expectedToken = options.authorizationToken;
  let lifetimeSeconds = options.credentialsLifetimeSeconds ?? 21_600;
  let authorized = 0;
  let served = 0;

  const base = await startMetadataServer((req, requestPath, log): MetadataAnswer => {
    if (log.method !== 'GET') return { status: 405 };
    if (expectedToken !== undefined && req.headers.authorization !== expectedToken) {
      return { status: 401, headers: { 'content-type': 'application/json' }, body: '{"Message":"unauthorized"}' };
    }
    authorized += 1;
    if (requestPath !== path) return { status: 404 };
    served += 1;
    base.countCredentialsServed();
    const credentials = options.credentials ?? numberedCredentials('CONT', served);
    return { status: 200, headers: { 'content-type': 'application/json' }, body: credentialsDocument(credentials, lifetimeSeconds, now) };
  });

  return withExtras(base, {
    path,
    url: `${base.endpoint}${path}`,
    get authorizedRequests() {
      return authorized;
    },
    setAuthorizationToken: (token: string | undefined) => {
      expectedToken = token;
    },
    setCredentialsLifetimeSeconds: (seconds: number) => {
      lifetimeSeconds = seconds;
    },
  });
}
