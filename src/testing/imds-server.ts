import { randomBytes } from 'node:crypto';
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

export type { FakeCredentials, MetadataFault, MetadataLoggedRequest } from './metadata-server-common.js';

/** The paths a local IMDS serves, for faults and counts. */
export const IMDS_PATHS = {
  token: '/latest/api/token',
  roleList: '/latest/meta-data/iam/security-credentials/',
  credentials: (role: string) => `/latest/meta-data/iam/security-credentials/${role}`,
  region: '/latest/meta-data/placement/region',
} as const;

export interface ImdsServerOptions {
  /** `optional`: token-less (IMDSv1) requests are served; `required`: they get 401. @default 'optional' */
  readonly tokens?: 'optional' | 'required';
  /** The attached role; `null` for an instance without one (404 on the role list). @default 'credchain-test-role' */
  readonly roleName?: string | null;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** Fixed credentials; by default each answer hands out new numbered ones (`ASIAIMDS00000001`, ...). */
  readonly credentials?: FakeCredentials;
  /** Lifetime of each credentials answer; negative for credentials that are already expired. @default 21600 */
  readonly credentialsLifetimeSeconds?: number;
  /** Server clock, for token lifetimes and `Expiration`; share the test's fake clock. @default Date.now */
  readonly now?: Clock;
  /**
   * Token PUTs are received but never answered, while GETs are: what a container on EC2 sees with a
   * metadata hop limit of 1 (the PUT's answer is dropped one hop short). @default false
   */
  readonly dropTokenAnswers?: boolean;
  /** Loopback port to listen on. @default 0 (a random free port) */
  readonly port?: number;
}

export interface ImdsServer extends MetadataServerBase {
  /** Every token issued so far stops working: the next request using one gets 401. */
  expireTokens(): void;
  setTokens(mode: 'optional' | 'required'): void;
  setRoleName(roleName: string | null): void;
  setCredentialsLifetimeSeconds(seconds: number): void;
  /** Switches `dropTokenAnswers` on or off. */
  setDropTokenAnswers(drop: boolean): void;
  /** Tokens issued so far. */
  readonly tokensIssued: number;
}

const MAX_TTL_SECONDS = 21_600;

/**
 * A local EC2 instance metadata service on a random loopback port: IMDSv2 tokens with TTLs,
 * IMDSv1 when allowed, 401 for expired or unknown tokens, the role list and the role's
 * credentials, the region, and injectable faults (status codes, delays, hangs, garbage, oversized
 * bodies). Point a provider at it with the `endpoint` option.
 */
export async function startImdsServer(options: ImdsServerOptions = {}): Promise<ImdsServer> {
  const now = options.now ?? (() => Date.now());
  let tokensMode = options.tokens ?? 'optional';
  let roleName = options.roleName === undefined ? 'credchain-test-role' : options.roleName;
  let lifetimeSeconds = options.credentialsLifetimeSeconds ?? MAX_TTL_SECONDS;
  const region = options.region ?? 'us-east-1';
  const tokens = new Map<string, number>(); // token -> expires at (ms)
  let tokensIssued = 0;
  let served = 0;
  let dropTokenAnswers = options.dropTokenAnswers ?? false;

  const base = await startMetadataServer((req, path, log): MetadataAnswer => {
    if (log.method === 'PUT') {
      if (dropTokenAnswers) return { status: 0, hang: true };
      if (path !== IMDS_PATHS.token) return { status: 404 };
      const ttl = Number(req.headers['x-aws-ec2-metadata-token-ttl-seconds']);
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TTL_SECONDS) return { status: 400 };
      const token = randomBytes(24).toString('base64url');
      tokens.set(token, now() + ttl * 1000);
      tokensIssued += 1;
      return { status: 200, headers: { 'x-aws-ec2-metadata-token-ttl-seconds': String(ttl) }, body: token };
    }
    if (log.method !== 'GET') return { status: 405 };
    if (path === IMDS_PATHS.token) return { status: 405 };

    const token = req.headers['x-aws-ec2-metadata-token'];
    if (typeof token === 'string') {
      const expiresAt = tokens.get(token);
      if (expiresAt === undefined || now() >= expiresAt) return { status: 401 };
    } else if (tokensMode === 'required') {
      return { status: 401 };
    }

    if (path === IMDS_PATHS.region) return { status: 200, body: region };
    if (path === IMDS_PATHS.roleList) return roleName === null ? { status: 404 } : { status: 200, body: roleName };
    if (roleName !== null && path === IMDS_PATHS.credentials(roleName)) {
      served += 1;
      base.countCredentialsServed();
      const credentials = options.credentials ?? numberedCredentials('IMDS', served);
      return { status: 200, body: credentialsDocument(credentials, lifetimeSeconds, now) };
    }
    return { status: 404 };
  }, options.port);

  return withExtras(base, {
    expireTokens: () => tokens.clear(),
    setTokens: (mode: 'optional' | 'required') => {
      tokensMode = mode;
    },
    setRoleName: (name: string | null) => {
      roleName = name;
    },
    setCredentialsLifetimeSeconds: (seconds: number) => {
      lifetimeSeconds = seconds;
    },
    setDropTokenAnswers: (drop: boolean) => {
      dropTokenAnswers = drop;
    },
    get tokensIssued() {
      return tokensIssued;
    },
  });
}
