import { isExpired, type CredentialProvider, type Credentials } from './credentials.js';
import { CredentialsError, isNotFound, messageOf } from './errors.js';
import type { Clock } from './clock.js';
import { toFullLogger, type Logger } from './logger.js';
import { invalidateProvider, named, providerNameOf } from './provider.js';
import { INNER_PROVIDER, lastAttemptsOf, type ProviderAttempt } from './trace.js';

const MINUTE = 60_000;

/** The default windows of `refreshing`; the STS session cache shares sessions only before them. */
export const REFRESH_DEFAULTS = {
  advisoryWindowMs: 15 * MINUTE,
  mandatoryWindowMs: 10 * MINUTE,
  jitter: 0.2,
  retryAfterFailureMs: 40_000,
  maxRetryAfterFailureMs: 5 * MINUTE,
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
  /** Where failed renewals are reported (never with secrets). Silent by default. */
  readonly logger?: Logger;
  /** Random source in [0, 1) for the renewal jitter and the backoff. @default Math.random */
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
  /** In [0, 1]: the renewal point moves earlier by up to this fraction of the advisory window, at random. @default 0.2 */
  readonly jitter?: number;
  /**
   * First backoff step after a failed renewal: no new attempt starts for between half and all of it
   * (equal jitter). Each further consecutive failure doubles it, up to `maxRetryAfterFailureMs`; a
   * success resets it. @default 40_000 (so the first retry comes 20–40 s after a failure)
   */
  readonly retryAfterFailureMs?: number;
  /** Cap of the backoff step. @default 300_000 (5 minutes, so 2.5–5 minutes between attempts at the cap) */
  readonly maxRetryAfterFailureMs?: number;
  /**
   * Credentials without an expiration are re-fetched this long after they were obtained (the first
   * call after it waits; if the re-fetch fails they are still served, with the backoff above). Like
   * the JS SDK's `createCredentialChain(...).expireAfter(ms)`. @default undefined (kept until `invalidate()`)
   */
  readonly maxAgeMs?: number;
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
  /** Consecutive failed renewals (0 after a success). */
  readonly failures: number;
  /** After a failure: when the next attempt may start (ms since epoch). */
  readonly nextAttemptAt?: number;
}

export interface RefreshingProvider extends CredentialProvider {
  /** Drops the cached credentials (and those of the inner provider) and the backoff: the next call resolves anew. */
  invalidate(): void;
  status(): RefreshingStatus;
}

/**
 * Thrown at once to callers that arrive while the cached credentials have expired and the source is
 * failing, between two attempts (or while the one attempt of the step runs). `cause` is the last
 * renewal's error; `nextAttemptAt` says when the next attempt may start.
 */
export class RenewalBackoffError extends CredentialsError {
  override name = 'RenewalBackoffError';
  readonly nextAttemptAt: Date;
  readonly expiredAt: Date;

  constructor(message: string, options: { providerName: string; cause: unknown; nextAttemptAt: number; expiredAt: number }) {
    super(message, { providerName: options.providerName, cause: options.cause });
    this.nextAttemptAt = new Date(options.nextAttemptAt);
    this.expiredAt = new Date(options.expiredAt);
  }
}

/** Set on `refreshing` providers: the chain attempts that produced the credentials being served. */
export const SERVED_ATTEMPTS = Symbol.for('credchain.servedAttempts');

interface CacheEntry {
  readonly credentials: Credentials;
  /** The same resolved promise for every cached get: no allocation on the hot path. */
  readonly promise: Promise<Credentials>;
  readonly expiresAt: number; // Infinity when the credentials carry no expiration
  readonly refreshAt: number;
  readonly mandatoryAt: number;
  /** The attempts of the inner chain that produced these credentials, for `explain`. */
  readonly attempts: readonly ProviderAttempt[] | undefined;
}

function checkOption(name: string, key: string, value: number | undefined, max = Infinity, min = 0, minIncluded = true): void {
  if (value === undefined) return;
  const ok = typeof value === 'number' && Number.isFinite(value) && (minIncluded ? value >= min : value > min) && value <= max;
  if (!ok) {
    const range = max === Infinity ? `a finite number ${minIncluded ? '>=' : '>'} ${min}` : `a number in [${min}, ${max}]`;
    throw new CredentialsError(`refreshing(): option ${key} must be ${range} (got ${String(value)})`, { providerName: name });
  }
}

/**
 * Wraps a provider in a cache that renews ahead of expiry. Windows scale with each credential's
 * lifetime (a quarter advisory, a tenth mandatory, capped at 15 and 10 minutes), so a 15-minute
 * session is renewed once per lifetime rather than on every call. One renewal runs at a time;
 * failed renewals back off exponentially; still-valid credentials are served when a renewal fails;
 * expired ones never are (every get compares the expiration with the clock).
 */
export function refreshing(provider: CredentialProvider, options: RefreshingOptions = {}): RefreshingProvider {
  // Date.now itself (it needs no `this`), so a cached get with the system clock is one builtin call.
  const now: Clock = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const log = toFullLogger(options.logger);
  const name = options.name ?? providerNameOf(provider);
  checkOption(name, 'advisoryWindowMs', options.advisoryWindowMs);
  checkOption(name, 'mandatoryWindowMs', options.mandatoryWindowMs);
  checkOption(name, 'jitter', options.jitter, 1);
  checkOption(name, 'retryAfterFailureMs', options.retryAfterFailureMs);
  checkOption(name, 'maxRetryAfterFailureMs', options.maxRetryAfterFailureMs);
  checkOption(name, 'maxAgeMs', options.maxAgeMs, Infinity, 0, false);
  const advisoryCapMs = options.advisoryWindowMs ?? REFRESH_DEFAULTS.advisoryWindowMs;
  const mandatoryCapMs = options.mandatoryWindowMs ?? REFRESH_DEFAULTS.mandatoryWindowMs;
  const jitter = options.jitter ?? REFRESH_DEFAULTS.jitter;
  const firstStepMs = options.retryAfterFailureMs ?? REFRESH_DEFAULTS.retryAfterFailureMs;
  const maxStepMs = options.maxRetryAfterFailureMs ?? REFRESH_DEFAULTS.maxRetryAfterFailureMs;
  const maxAgeMs = options.maxAgeMs;

  let entry: CacheEntry | undefined;
  let inflight: Promise<Credentials> | undefined;
  /** Identifies the attempt `inflight` belongs to: only that attempt clears it. */
  let inflightToken: object | undefined;
  /** Bumped by invalidate(): an attempt from an older generation changes nothing when it settles. */
  let generation = 0;
  // Backoff state of the current generation, reset by a success and by invalidate().
  let failures = 0;
  let nextAttemptAt = 0;
  let lastError: unknown;
  let lastFailedAt = 0;
  /** When the last failed attempt started; an attempt started at or after expiry means "the source is failing". */
  let lastFailedStartedAt = -Infinity;

  const store = (credentials: Credentials, obtainedAt: number, attempts: readonly ProviderAttempt[] | undefined): CacheEntry => {
    const promise = Promise.resolve(credentials);
    if (credentials.expiration === undefined) {
      // With maxAgeMs the credentials are re-fetched (first caller waits) but never expire.
      const mandatoryAt = maxAgeMs === undefined ? Infinity : obtainedAt + maxAgeMs;
      return { credentials, promise, expiresAt: Infinity, refreshAt: mandatoryAt, mandatoryAt, attempts };
    }
    const expiresAt = credentials.expiration.getTime();
    const windows = { advisoryWindowMs: advisoryCapMs, mandatoryWindowMs: mandatoryCapMs, jitter };
    return { credentials, promise, expiresAt, ...renewalWindow(obtainedAt, expiresAt, windows, random()), attempts };
  };

  /** Equal jitter: between half and all of min(first × 2^(failures-1), cap). */
  const backoffMs = (n: number): number => {
    const nominal = Math.min(firstStepMs * 2 ** (n - 1), maxStepMs);
    return nominal / 2 + (random() * nominal) / 2;
  };

  /** Starts one attempt; state is settled inside it, so it is current before any caller resumes. */
  const attempt = (): Promise<Credentials> => {
    const startedIn = generation;
    const startedAt = now();
    const token = {};
    inflightToken = token;
    const run: Promise<Credentials> = (async () => {
      try {
        // Through a promise, so a provider that throws synchronously still settles after `inflight` is set.
        const credentials = await Promise.resolve().then(() => provider());
        const attempts = lastAttemptsOf(provider);
        const at = now();
        if (isExpired(credentials, at)) {
          throw new CredentialsError(
            `${name} returned credentials that expired at ${credentials.expiration!.toISOString()}; refusing to use them`,
            { providerName: name },
          );
        }
        if (startedIn === generation) {
          entry = store(credentials, at, attempts);
          failures = 0;
          nextAttemptAt = 0;
          lastError = undefined;
          lastFailedStartedAt = -Infinity;
        }
        return credentials;
      } catch (error) {
        if (startedIn === generation) {
          failures += 1;
          lastFailedAt = now();
          nextAttemptAt = lastFailedAt + backoffMs(failures);
          lastError = error;
          lastFailedStartedAt = startedAt;
        }
        throw error;
      } finally {
        if (inflightToken === token) {
          inflight = undefined;
          inflightToken = undefined;
        }
      }
    })();
    inflight = run;
    return run;
  };

  const renewInBackground = () => {
    attempt().catch((error: unknown) =>
      log.warn(
        `credchain: background renewal of ${name} failed (${failures} in a row; next attempt in ${Math.round((nextAttemptAt - now()) / 1000)} s); serving cached credentials until they expire: ${messageOf(error)}`,
      ),
    );
  };

  const backoffError = (cached: CacheEntry, t: number): Error => {
    // "Not here" keeps its meaning (a chain around us moves on); it says nothing about an outage.
    if (isNotFound(lastError)) return lastError;
    const due = inflight ? 'now running' : `due at ${new Date(nextAttemptAt).toISOString()}`;
    return new RenewalBackoffError(
      `${name}: credentials expired at ${new Date(cached.expiresAt).toISOString()} and renewing them failed ${failures} time(s) in a row, the last ${Math.round((t - lastFailedAt) / 1000)} s ago; next attempt ${due}: ${messageOf(lastError)}`,
      { providerName: name, cause: lastError, nextAttemptAt, expiredAt: cached.expiresAt },
    );
  };

  const slow = (cached: CacheEntry, t: number): Promise<Credentials> => {
    if (t >= cached.expiresAt) {
      // Expired. Until an attempt started since the expiry has failed, callers wait for one (the
      // source may have recovered): an outage that ends before expiry fails no call.
      if (lastFailedStartedAt < cached.expiresAt) return inflight ?? attempt();
      // The source is failing: one attempt per backoff step, which its caller waits for; everyone
      // else gets the last error at once.
      if (inflight !== undefined || t < nextAttemptAt) return Promise.reject(backoffError(cached, t));
      return attempt();
    }
    if (t < cached.mandatoryAt || failures > 0) {
      // Advisory window, or any window after a failure: the cached value at once, renewal in the
      // background once the backoff step has passed.
      if (inflight === undefined && t >= nextAttemptAt) renewInBackground();
      return cached.promise;
    }
    // Mandatory window, the source not known to be failing: wait for the renewal. If it fails, the
    // cached value is served only if it is still valid when the failure arrives.
    return (inflight ?? attempt()).catch((error: unknown) => {
      if (now() >= cached.expiresAt) throw error;
      log.warn(`credchain: renewal of ${name} failed; serving credentials that expire ${cached.expiresAt === Infinity ? 'never' : `at ${new Date(cached.expiresAt).toISOString()}`}: ${messageOf(error)}`);
      return cached.credentials;
    });
  };

  const get = (): Promise<Credentials> => {
    const cached = entry;
    if (cached === undefined) return inflight ?? attempt();
    if (cached.refreshAt === Infinity) return cached.promise; // no expiration, no maxAgeMs
    // The clock is read on every get: trusting an entry for longer (say, an event-loop turn) lets a
    // caller that never yields to the macrotask queue see credentials past their expiration.
    const t = now();
    if (t < cached.refreshAt) return cached.promise;
    return slow(cached, t);
  };

  const result = named(name, get as RefreshingProvider);
  result.invalidate = () => {
    generation += 1;
    entry = undefined;
    inflight = undefined;
    inflightToken = undefined;
    failures = 0;
    nextAttemptAt = 0;
    lastError = undefined;
    lastFailedStartedAt = -Infinity;
    invalidateProvider(provider);
  };
  result.status = (): RefreshingStatus => {
    const base = {
      renewing: inflight !== undefined,
      failures,
      ...(lastError !== undefined ? { lastError: messageOf(lastError), nextAttemptAt } : {}),
    };
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
  Object.defineProperty(result, SERVED_ATTEMPTS, { value: () => entry?.attempts, enumerable: false });
  return result;
}
