import { isExpired, type CredentialProvider, type Credentials } from './credentials.js';
import { CredentialsError, messageOf } from './errors.js';
import { systemClock, type Clock } from './clock.js';
import { toFullLogger, type Logger } from './logger.js';
import { invalidateProvider, named, providerNameOf } from './provider.js';
import { INNER_PROVIDER } from './trace.js';

const MINUTE = 60_000;

/** The default windows of `refreshing`; the STS session cache shares sessions only before them. */
export const REFRESH_DEFAULTS = {
  advisoryWindowMs: 15 * MINUTE,
  mandatoryWindowMs: 10 * MINUTE,
  jitter: 0.2,
  retryAfterFailureMs: 10_000,
} as const;

/** The windows `renewalWindow` reads (the `refreshing` options of the same names; defaults as there). */
export type RenewalWindowOptions = Pick<RefreshingOptions, 'advisoryWindowMs' | 'mandatoryWindowMs' | 'jitter'>;

/**
 * When a credential obtained at `obtainedAt` and expiring at `expiresAt` enters its advisory
 * (`refreshAt`) and mandatory (`mandatoryAt`) windows. `jitterDraw` in [0, 1] picks the jitter:
 * `refreshing` draws it at random; the STS session cache passes 1, the earliest any holder renews.
 */
export function renewalWindow(
  obtainedAt: number,
  expiresAt: number,
  options: RenewalWindowOptions,
  jitterDraw: number,
): { readonly refreshAt: number; readonly mandatoryAt: number } {
  const lifetimeMs = expiresAt - obtainedAt;
  const jitter = options.jitter ?? REFRESH_DEFAULTS.jitter;
  const advisoryMs = Math.min(options.advisoryWindowMs ?? REFRESH_DEFAULTS.advisoryWindowMs, lifetimeMs / 4) * (1 + jitter * jitterDraw);
  const mandatoryMs = Math.min(options.mandatoryWindowMs ?? REFRESH_DEFAULTS.mandatoryWindowMs, lifetimeMs / 10);
  const mandatoryAt = expiresAt - mandatoryMs;
  // A narrower advisory window (e.g. advisoryWindowMs: 0) must not hide the mandatory one.
  return { refreshAt: Math.min(expiresAt - advisoryMs, mandatoryAt), mandatoryAt };
}

export interface RefreshingOptions {
  /** Injectable clock (ms since epoch). @default Date.now */
  readonly now?: Clock;
  /** Where failed background renewals are reported (never with secrets). Silent by default. */
  readonly logger?: Logger;
  /** Random source in [0, 1) for the renewal jitter. @default Math.random */
  readonly random?: () => number;
  /**
   * Upper bound of the advisory window: inside it callers get the cached value at once and one
   * renewal runs in the background. The window is a quarter of the credential's lifetime, capped here.
   * @default 900_000 (15 minutes, botocore's advisory window)
   */
  readonly advisoryWindowMs?: number;
  /**
   * Upper bound of the mandatory window: inside it callers wait for the renewal. A tenth of the
   * credential's lifetime, capped here. @default 600_000 (10 minutes, botocore's mandatory window)
   */
  readonly mandatoryWindowMs?: number;
  /** The renewal point moves earlier by up to this fraction of the advisory window, at random. @default 0.2 */
  readonly jitter?: number;
  /** After a failed renewal, still-valid credentials are served without a new attempt for this long. @default 10_000 */
  readonly retryAfterFailureMs?: number;
  /** Display name used in log lines and errors. @default the inner provider's name */
  readonly name?: string;
}

/** What the cache holds and what it would do on the next call (like lru-cache's `status`). */
export interface RefreshingStatus {
  readonly state: 'empty' | 'fresh' | 'advisory' | 'mandatory' | 'expired';
  readonly expiration?: Date;
  /** When the next background renewal may start (ms since epoch). */
  readonly refreshAt?: number;
  readonly renewing: boolean;
  /** The message of the last failed renewal, cleared by a success. */
  readonly lastError?: string;
}

export interface RefreshingProvider extends CredentialProvider {
  /** Drops the cached credentials (and those of the inner provider): the next call resolves anew. */
  invalidate(): void;
  status(): RefreshingStatus;
}

interface CacheEntry {
  readonly credentials: Credentials;
  /** The same resolved promise for every cached get: no allocation on the hot path. */
  readonly promise: Promise<Credentials>;
  readonly expiresAt: number; // Infinity when the credentials carry no expiration
  readonly refreshAt: number;
  readonly mandatoryAt: number;
}

/**
 * Wraps a provider in a cache that renews ahead of expiry. Windows scale with each credential's
 * lifetime (a quarter advisory, a tenth mandatory, capped at 15 and 10 minutes), so a 15-minute
 * session is renewed once per lifetime rather than on every call. One renewal runs at a time, and
 * still-valid credentials are served when a renewal fails; expired ones never are.
 */
export function refreshing(provider: CredentialProvider, options: RefreshingOptions = {}): RefreshingProvider {
  const now = options.now ?? systemClock;
  // Reading the system clock is the main cost of a cached get (tens of ns on some VMs), so with the
  // system clock a fresh entry is trusted for the rest of the current event-loop turn: time read once
  // per turn, as if every caller in the turn had read it at its start. An injected clock is read on
  // every call, so tests see exact windows.
  const trustForTurn = options.now === undefined;
  const random = options.random ?? Math.random;
  const log = toFullLogger(options.logger);
  const advisoryCapMs = options.advisoryWindowMs ?? REFRESH_DEFAULTS.advisoryWindowMs;
  const mandatoryCapMs = options.mandatoryWindowMs ?? REFRESH_DEFAULTS.mandatoryWindowMs;
  const jitter = options.jitter ?? REFRESH_DEFAULTS.jitter;
  const retryAfterFailureMs = options.retryAfterFailureMs ?? REFRESH_DEFAULTS.retryAfterFailureMs;
  const name = options.name ?? providerNameOf(provider);
  for (const [key, value] of Object.entries({ advisoryCapMs, mandatoryCapMs, jitter, retryAfterFailureMs })) {
    if (!(value >= 0)) throw new CredentialsError(`refreshing(): option ${key} must be a number >= 0`, { providerName: name });
  }

  let entry: CacheEntry | undefined;
  let inflight: Promise<Credentials> | undefined;
  let nextAttemptAt = 0;
  let lastError: string | undefined;
  let generation = 0;
  let trusted: CacheEntry | undefined;
  const endTrust = () => {
    trusted = undefined;
  };

  const store = (credentials: Credentials, obtainedAt: number): CacheEntry => {
    const promise = Promise.resolve(credentials);
    if (credentials.expiration === undefined) {
      return { credentials, promise, expiresAt: Infinity, refreshAt: Infinity, mandatoryAt: Infinity };
    }
    const expiresAt = credentials.expiration.getTime();
    const windows = { advisoryWindowMs: advisoryCapMs, mandatoryWindowMs: mandatoryCapMs, jitter };
    return { credentials, promise, expiresAt, ...renewalWindow(obtainedAt, expiresAt, windows, random()) };
  };

  let renewalCount = 0;
  const renew = (): Promise<Credentials> => {
    if (inflight) return inflight;
    const startedIn = generation;
    const renewal = ++renewalCount;
    // State is settled inside the attempt itself, so it is current before any caller resumes.
    inflight = (async () => {
      try {
        // Through a promise, so a provider that throws synchronously still settles after `inflight` is set.
        const credentials = await Promise.resolve().then(() => provider());
        const at = now();
        if (isExpired(credentials, at)) {
          throw new CredentialsError(
            `${name} returned credentials that expired at ${credentials.expiration!.toISOString()}; refusing to use them`,
            { providerName: name },
          );
        }
        if (startedIn === generation) entry = store(credentials, at);
        nextAttemptAt = 0;
        lastError = undefined;
        return credentials;
      } catch (error) {
        nextAttemptAt = now() + retryAfterFailureMs;
        lastError = messageOf(error);
        throw error;
      } finally {
        if (renewalCount === renewal) inflight = undefined;
      }
    })();
    return inflight;
  };

  const renewInBackground = () => {
    renew().catch((error: unknown) =>
      log.warn(`credchain: background renewal of ${name} failed; serving cached credentials until they expire: ${messageOf(error)}`),
    );
  };

  const get = (): Promise<Credentials> => {
    const cached = entry;
    if (!cached) return renew();
    if (cached === trusted || cached.expiresAt === Infinity) return cached.promise;
    const t = now();
    if (t < cached.refreshAt) {
      if (trustForTurn) {
        trusted = cached;
        setImmediate(endTrust).unref();
      }
      return cached.promise;
    }
    if (t >= cached.expiresAt) return renew();
    if (t < cached.mandatoryAt) {
      if (!inflight && t >= nextAttemptAt) renewInBackground();
      return cached.promise;
    }
    // Mandatory window: wait for the renewal, unless one just failed and the cache is still good.
    if (!inflight && t < nextAttemptAt) return cached.promise;
    return renew().catch((error: unknown) => {
      if (isExpired(cached.credentials, now())) throw error;
      log.warn(`credchain: renewal of ${name} failed; serving credentials that expire at ${cached.credentials.expiration!.toISOString()}: ${messageOf(error)}`);
      return cached.credentials;
    });
  };

  const result = named(name, get as RefreshingProvider);
  result.invalidate = () => {
    generation += 1;
    entry = undefined;
    trusted = undefined;
    inflight = undefined;
    nextAttemptAt = 0;
    invalidateProvider(provider);
  };
  result.status = (): RefreshingStatus => {
    const renewing = inflight !== undefined;
    const base = { renewing, ...(lastError !== undefined ? { lastError } : {}) };
    if (!entry) return { state: 'empty', ...base };
    const t = now();
    const state =
      t >= entry.expiresAt ? 'expired' : t >= entry.mandatoryAt ? 'mandatory' : t >= entry.refreshAt ? 'advisory' : 'fresh';
    return {
      state,
      ...(entry.credentials.expiration ? { expiration: entry.credentials.expiration, refreshAt: entry.refreshAt } : {}),
      ...base,
    };
  };
  Object.defineProperty(result, INNER_PROVIDER, { value: provider, enumerable: false });
  return result;
}
