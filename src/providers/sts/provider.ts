import { systemClock, type Clock } from '../../clock.js';
import { maskAccessKeyId, type CredentialProvider, type Credentials } from '../../credentials.js';
import { CredentialsError, messageOf } from '../../errors.js';
import { toFullLogger, type FullLogger, type Logger } from '../../logger.js';
import { invalidateProvider, named, type InvalidatableProvider } from '../../provider.js';
import { refreshing, renewalWindow, type RefreshingOptions, type RefreshingProvider } from '../../refreshing.js';
import { SIGN_WITH, type StsCallOptions } from '../../sts/client.js';
import { isStsError, StsClient, type StsClientOptions } from '../../sts/index.js';
import { toProviderError, type StsCallSubject } from './errors.js';
import { dropSession, sessionKeyOf, sharedSession, type CachedSession } from './session-cache.js';

/** Tuning of the `refreshing()` wrapper every STS-backed provider comes in. */
export type RefreshTuning = Pick<RefreshingOptions, 'advisoryWindowMs' | 'mandatoryWindowMs' | 'jitter' | 'random' | 'retryAfterFailureMs' | 'maxRetryAfterFailureMs' | 'maxAgeMs'>;

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
  /** Also keep sessions on disk, shared by processes and with the AWS CLI (see src/cache/disk.ts). @default false */
  readonly diskCache?: import('../../cache/disk.js').DiskCacheOption;
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
  /** What the disk cache keys on, for providers whose sessions may be kept on disk. */
  readonly disk?: import('../../cache/sts.js').StsDiskPlan;
}

/** State kept across the attempts of one renewal (e.g. the MFA code, asked for once). */
export type RenewalState = Record<string, unknown>;

export interface SessionProviderSpec {
  readonly name: string;
  readonly options: StsProviderOptions;
  /** The provider's one STS client (see `stsClientFor`). */
  readonly client: StsClient;
  /** The caller's credentials, for providers that sign (invalidated once on `ExpiredToken`). */
  readonly source?: CredentialProvider;
  readonly plan: (state: RenewalState) => Promise<SessionPlan>;
}

/**
 * The one STS client of a provider: the given one, or one built from the provider's options (`env`
 * for providers that read their settings from a given environment). Every call of the provider goes
 * through it, so its learned clock offset and resolved endpoint and region last as long as the provider.
 */
export function stsClientFor(options: StsProviderOptions, env?: StsClientOptions['env']): StsClient {
  if (options.sts instanceof StsClient) return options.sts;
  return new StsClient({
    ...(options.region !== undefined ? { region: options.region } : {}),
    ...(options.logger !== undefined ? { logger: options.logger } : {}),
    ...(options.now !== undefined ? { now: options.now } : {}),
    ...(env !== undefined ? { env } : {}),
    ...options.sts,
  });
}

/** Call options that sign with the provider's source credentials instead of the client's own. */
export function signedBy(credentials: Credentials): StsCallOptions {
  return { [SIGN_WITH]: credentials };
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
  const { name, options, client, source } = spec;
  const now = options.now ?? systemClock;
  const log: FullLogger = toFullLogger(options.logger);
  const tuning: RefreshTuning = options.refresh === false ? {} : (options.refresh ?? {});
  // A cached session is shared only before the earliest point at which a holder of it could start
  // renewing (refreshing's windows at full jitter), so a renewal never gets back the session it renews.
  const shareable = (session: CachedSession, nowMs: number) => nowMs < renewalWindow(session.obtainedAt, session.expiresAt, tuning, 1).refreshAt;
  let lastKey: string | undefined;
  let forgetDisk: (() => void) | undefined;

  /** This provider's own STS call (through the session cache); throws the client's errors as they are. */
  const session = async (plan: SessionPlan): Promise<Credentials> => {
    if (options.sessionCache === false) return plan.fetch();
    const endpoint = await client.resolveEndpoint();
    // Keyed by operation, not provider: fromWebIdentity and fromTokenFile with the same token share.
    const key = await sessionKeyOf([plan.about.operation, endpoint.url.href, endpoint.signingRegion, ...plan.keyParts]);
    lastKey = key;
    const { disk } = plan;
    const fetch = options.diskCache && disk
      ? async () => (await import('../../cache/sts.js')).stsThroughDisk({ option: options.diskCache!, operation: plan.about.operation, endpoint: endpoint.url.href, signingRegion: endpoint.signingRegion, disk, now, shareable, fetch: plan.fetch, log, name, onServed: (f) => (forgetDisk = f) })
      : plan.fetch;
    const { credentials, cached } = await sharedSession({ key, now, shareable, fetch });
    log.debug(`${name}: ${cached ? 'shared session from the STS session cache' : 'new STS session'} ${maskAccessKeyId(credentials.accessKeyId)} expires ${credentials.expiration?.toISOString() ?? 'never'}`);
    return credentials;
  };

  const bare = async (): Promise<Credentials> => {
    const state: RenewalState = {};
    for (let retried = false; ; retried = true) {
      // Failures of the plan (the source, an inner hop of a role chain) pass through untouched: the
      // hop whose own call was refused is the one that retries, so a chain never multiplies retries.
      const plan = await spec.plan(state);
      try {
        return await session(plan);
      } catch (error) {
        if (retried || !source || !isStsError(error, 'ExpiredToken', 'ExpiredTokenException')) throw toProviderError(error, plan.about);
        log.debug(`${name}: STS says the source credentials expired; invalidating the source and retrying once`);
        invalidateProvider(source);
      }
    }
  };
  const provider = named(name, bare as StsSessionProvider);
  provider.invalidate = () => {
    if (lastKey !== undefined) dropSession(lastKey);
    forgetDisk?.();
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
