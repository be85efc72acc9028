import { systemClock, type Clock } from '../clock.js';
import { maskAccessKeyId, type CredentialProvider, type Credentials } from '../credentials.js';
import { CredentialsError, messageOf } from '../errors.js';
import { toFullLogger, type FullLogger, type Logger } from '../logger.js';
import { invalidateProvider, named, type InvalidatableProvider } from '../provider.js';
import { refreshing, REFRESH_DEFAULTS, type RefreshingOptions, type RefreshingProvider } from '../refreshing.js';
import { isStsError, StsClient, type StsClientOptions, type StsEndpoint } from '../sts/index.js';
import { StsCredentialsError, toProviderError, type StsCallSubject } from './sts-errors.js';
import { dropSession, sessionKeyOf, sharedSession, type CachedSession } from './sts-session-cache.js';

/** Tuning of the `refreshing()` wrapper every STS-backed provider comes in. */
export type RefreshTuning = Pick<RefreshingOptions, 'advisoryWindowMs' | 'mandatoryWindowMs' | 'jitter' | 'random' | 'retryAfterFailureMs'>;

/** Options every STS-backed provider takes. */
export interface StsProviderOptions {
  /** The STS client to use, or options for the one the provider builds. Signed calls always sign with `source`. */
  readonly sts?: StsClient | StsClientOptions;
  /** STS region (endpoint and signing), when `sts` does not set one. */
  readonly region?: string;
  /** Debug lines for STS calls and cache hits, warnings for failed background renewals; never secrets. */
  readonly logger?: Logger;
  /** Clock (ms since epoch) for the STS client, the session cache and the renewal windows. @default Date.now */
  readonly now?: Clock;
  /**
   * The provider comes wrapped in `refreshing()` (renewal ahead of expiry, one renewal in flight).
   * `false` returns the bare provider: every call asks the session cache, then STS. An object tunes the windows.
   */
  readonly refresh?: false | RefreshTuning;
  /** Share sessions through the process-wide STS session cache. @default true */
  readonly sessionCache?: boolean;
}

/** A bare STS-backed provider (`refresh: false`): `invalidate()` drops its entry in the session cache. */
export type StsSessionProvider = InvalidatableProvider;

/** What one renewal asks for. */
export interface SessionPlan {
  /** Every parameter that changes the result (secrets only as digests). */
  readonly keyParts: readonly unknown[];
  /** Calls STS; only runs when the cache has no shareable session. */
  readonly fetch: () => Promise<Credentials>;
  readonly about: StsCallSubject;
}

/** State kept across the attempts of one renewal (e.g. the MFA code, asked for once). */
export type RenewalState = Record<string, unknown>;

export interface SessionProviderSpec {
  readonly name: string;
  readonly options: StsProviderOptions;
  readonly clients: StsClients;
  /** The caller's credentials, for providers that sign (invalidated once on `ExpiredToken`). */
  readonly source?: CredentialProvider;
  readonly plan: (state: RenewalState) => Promise<SessionPlan>;
}

// A cached session is shared only before the earliest point at which a holder of it could start
// renewing (refreshing's windows), so a renewal never gets back the session it renews.
const { advisoryWindowMs: DEFAULT_ADVISORY_CAP_MS, mandatoryWindowMs: DEFAULT_MANDATORY_CAP_MS, jitter: DEFAULT_JITTER } = REFRESH_DEFAULTS;

/** The last moment (ms) a session obtained at `obtainedAt` may be handed to a new holder. */
export function shareableUntil(session: Pick<CachedSession, 'obtainedAt' | 'expiresAt'>, tuning: RefreshTuning = {}): number {
  const lifetimeMs = session.expiresAt - session.obtainedAt;
  const advisoryMs = Math.min(tuning.advisoryWindowMs ?? DEFAULT_ADVISORY_CAP_MS, lifetimeMs / 4) * (1 + (tuning.jitter ?? DEFAULT_JITTER));
  const mandatoryMs = Math.min(tuning.mandatoryWindowMs ?? DEFAULT_MANDATORY_CAP_MS, lifetimeMs / 10);
  return session.expiresAt - Math.max(advisoryMs, mandatoryMs);
}

/**
 * The STS clients of one provider: `base` for unsigned calls and the endpoint, and a client signing
 * with given credentials (kept while the credentials object stays the same).
 */
export class StsClients {
  readonly base: StsClient;
  private readonly clientOptions: StsClientOptions;
  private signing: { credentials: Credentials; client: StsClient } | undefined;

  constructor(options: StsProviderOptions) {
    const defaults: StsClientOptions = {
      ...(options.region !== undefined ? { region: options.region } : {}),
      ...(options.logger !== undefined ? { logger: options.logger } : {}),
      ...(options.now !== undefined ? { now: options.now } : {}),
    };
    if (options.sts instanceof StsClient) {
      this.base = options.sts;
      // A given client's settings (endpoint, retries, agent...) are reused for signing with the source.
      // StsClient keeps them private; reading them here stays inside the package.
      this.clientOptions = (options.sts as unknown as { options: StsClientOptions }).options;
    } else {
      this.clientOptions = { ...defaults, ...options.sts };
      this.base = new StsClient(this.clientOptions);
    }
  }

  signedWith(credentials: Credentials): StsClient {
    if (this.signing?.credentials !== credentials) {
      this.signing = { credentials, client: new StsClient({ ...this.clientOptions, credentials }) };
    }
    return this.signing.client;
  }

  endpoint(): Promise<StsEndpoint> {
    return this.base.resolveEndpoint();
  }
}

/** Resolves a source provider, wrapping failures so the message says what they were for. */
export async function resolveSource(providerName: string, source: CredentialProvider, forWhat: string): Promise<Credentials> {
  try {
    return await source();
  } catch (error) {
    if (error instanceof CredentialsError && (error as { code?: unknown }).code !== undefined) throw error;
    throw new CredentialsError(`${providerName}: could not get the source credentials for ${forWhat}: ${messageOf(error)}`, { providerName, cause: error });
  }
}

/**
 * Builds an STS-backed provider from a plan: each renewal asks the shared session cache, then STS;
 * an `ExpiredToken` answer for the source credentials invalidates the source once and retries.
 * Returned wrapped in `refreshing()` unless `refresh: false`.
 */
export function sessionProvider(spec: SessionProviderSpec): StsSessionProvider | RefreshingProvider {
  const { name, options, clients, source } = spec;
  const now = options.now ?? systemClock;
  const log: FullLogger = toFullLogger(options.logger);
  const tuning: RefreshTuning = options.refresh === false ? {} : (options.refresh ?? {});
  const shareable = (session: CachedSession, nowMs: number) => nowMs < shareableUntil(session, tuning);
  let lastKey: string | undefined;

  const once = async (state: RenewalState): Promise<Credentials> => {
    const plan = await spec.plan(state);
    try {
      if (options.sessionCache === false) return await plan.fetch();
      const endpoint = await clients.endpoint();
      // Keyed by operation, not provider: fromWebIdentity and fromTokenFile with the same token share.
      const key = await sessionKeyOf([plan.about.operation, endpoint.url.href, endpoint.signingRegion, ...plan.keyParts]);
      lastKey = key;
      const { credentials, cached } = await sharedSession({ key, now, shareable, fetch: plan.fetch });
      log.debug(`${name}: ${cached ? 'shared session from the STS session cache' : 'new STS session'} ${maskAccessKeyId(credentials.accessKeyId)} expires ${credentials.expiration?.toISOString() ?? 'never'}`);
      return credentials;
    } catch (error) {
      throw toProviderError(error, plan.about);
    }
  };

  const bare = async (): Promise<Credentials> => {
    const state: RenewalState = {};
    try {
      return await once(state);
    } catch (error) {
      if (!source || !(error instanceof StsCredentialsError && isStsError(error.cause, 'ExpiredToken'))) throw error;
      log.debug(`${name}: STS says the source credentials expired; invalidating the source and retrying once`);
      invalidateProvider(source);
      return once(state);
    }
  };
  const provider = named(name, bare as StsSessionProvider);
  provider.invalidate = () => {
    if (lastKey !== undefined) dropSession(lastKey);
  };
  if (options.refresh === false) return provider;
  return refreshing(provider, {
    ...tuning,
    ...(options.now !== undefined ? { now: options.now } : {}),
    ...(options.logger !== undefined ? { logger: options.logger } : {}),
  });
}

/** `credchain-<epoch ms>`: a default session name that fits the STS pattern `[\w+=,.@-]{2,64}`. */
export function defaultSessionName(now: Clock): string {
  return `credchain-${now()}`;
}

/** The given keys of `from` whose values are not undefined. */
export function pick<T extends object, K extends keyof T>(from: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (from[key] !== undefined) out[key] = from[key];
  return out;
}
