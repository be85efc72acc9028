import type { Clock } from '../clock.js';
import { isExpired, type CredentialProvider, type Credentials } from '../credentials.js';
import { messageOf } from '../errors.js';
import { toFullLogger, type Logger } from '../logger.js';
import type { RefreshingStatus } from '../refreshing.js';

const MINUTE = 60_000;

/**
 * Least time left on credentials handed to a client: botocore's mandatory refresh window (10
 * minutes; the JS SDK's is 5) plus one minute. Less than that and the client would turn round and
 * ask again on every call, so the server renews first.
 */
export const DEFAULT_MIN_REMAINING_MS = 11 * MINUTE;
/** For short-lived credentials the margin is at most this share of their lifetime (60 s credentials: 30 s). */
export const DEFAULT_MIN_REMAINING_FRACTION = 0.5;

export interface ServedSourceOptions {
  /** The provider to serve, usually a `refreshing` one (its `invalidate()` forces a renewal). */
  readonly provider: CredentialProvider & { invalidate?(): void; status?(): RefreshingStatus };
  /** @default DEFAULT_MIN_REMAINING_MS (11 minutes) */
  readonly minRemainingMs?: number;
  /** @default DEFAULT_MIN_REMAINING_FRACTION (0.5) */
  readonly minRemainingFraction?: number;
  /** First wait after a failed forced renewal before another; doubles up to 60 s. @default 5_000 */
  readonly retryAfterFailureMs?: number;
  readonly now?: Clock;
  readonly logger?: Logger;
  /** Renews on a timer once the credentials enter the margin, so no client waits. @default true */
  readonly keepWarm?: boolean;
}

export type ServedState = 'empty' | 'fresh' | 'advisory' | 'expired' | 'failing';

export interface ServedSource {
  /** Credentials with at least the margin left when the source can give them; never expired ones. */
  get(): Promise<Credentials>;
  /** For `/healthz`: no key material. */
  health(): { state: ServedState; expiration?: Date; failures: number; renewing: boolean };
  /** Stops the keep-warm timer. */
  stop(): void;
  /** Forced renewals run so far (each one call to the provider after `invalidate()`). */
  readonly forcedRenewals: number;
}

const keyOf = (c: Credentials) => `${c.accessKeyId}|${c.expiration?.getTime() ?? 'never'}`;

/**
 * What the server hands out: the provider's credentials, renewed first (one renewal for all
 * concurrent requests) when they have less than the client SDKs' refresh margin left. A source that
 * cannot do better (it hands back credentials as short as before) is asked once per credential, not
 * on every request; a failed renewal serves the still-valid credentials and backs off.
 */
export function servedSource(options: ServedSourceOptions): ServedSource {
  const provider = options.provider;
  const now: Clock = options.now ?? Date.now;
  const log = toFullLogger(options.logger);
  const minRemainingMs = options.minRemainingMs ?? DEFAULT_MIN_REMAINING_MS;
  const fraction = options.minRemainingFraction ?? DEFAULT_MIN_REMAINING_FRACTION;
  const firstStepMs = options.retryAfterFailureMs ?? 5_000;
  const keepWarm = options.keepWarm ?? true;

  let held: { credentials: Credentials; key: string; obtainedAt: number } | undefined;
  let forced: Promise<Credentials> | undefined;
  /** The credentials a forced renewal already ran for: not forced again. */
  let triedKey: string | undefined;
  let failures = 0;
  let backoffUntil = 0;
  let forcedRenewals = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const marginFor = (h: NonNullable<typeof held>): number => {
    const expiresAt = h.credentials.expiration?.getTime();
    if (expiresAt === undefined) return 0;
    return Math.min(minRemainingMs, Math.max(0, expiresAt - h.obtainedAt) * fraction);
  };

  const scheduleAt = (at: number) => {
    if (!keepWarm || stopped) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      get().catch(() => {}); // logged inside
    }, Math.min(Math.max(at - now(), 1000), 2 ** 31 - 1));
    timer.unref();
  };
  /** Renews when the credentials enter the margin (a little after, so the check sees them inside it). */
  const schedule = (h: NonNullable<typeof held>) => {
    const expiresAt = h.credentials.expiration?.getTime();
    if (expiresAt !== undefined) scheduleAt(expiresAt - marginFor(h) + 50);
  };

  const remember = (credentials: Credentials): NonNullable<typeof held> => {
    const key = keyOf(credentials);
    if (held?.key !== key) {
      held = { credentials, key, obtainedAt: now() };
      if (credentials.expiration) log.info(`serve: serving credentials that expire at ${credentials.expiration.toISOString()}`);
      schedule(held);
    }
    return held;
  };

  const validHeld = (): Credentials | undefined => (held && !isExpired(held.credentials, now()) ? held.credentials : undefined);

  const onFailure = (error: unknown, what: string): Credentials => {
    failures += 1;
    const step = Math.min(firstStepMs * 2 ** (failures - 1), MINUTE);
    backoffUntil = now() + step;
    const fallback = validHeld();
    if (!fallback) {
      log.error(`serve: ${what} failed (${failures} in a row) and no valid credentials are held: ${messageOf(error)}`);
      throw error;
    }
    log.warn(
      `serve: ${what} failed (${failures} in a row; next attempt in ${Math.round(step / 1000)} s); serving credentials that expire at ${fallback.expiration?.toISOString() ?? 'never'}: ${messageOf(error)}`,
    );
    scheduleAt(backoffUntil); // retried on the timer too, not only when a client asks
    return fallback;
  };

  const forceRenewal = (current: NonNullable<typeof held>): Promise<Credentials> => {
    triedKey = current.key;
    forcedRenewals += 1;
    return (async () => {
      provider.invalidate?.();
      const next = await provider();
      failures = 0;
      const h = remember(next);
      // The source could do no better: these are what it has, not forced again.
      if (now() + marginFor(h) > (next.expiration?.getTime() ?? Infinity)) triedKey = h.key;
      return next;
    })();
  };

  const get = async (): Promise<Credentials> => {
    if (forced) return forced;
    if (failures > 0 && now() < backoffUntil) {
      const fallback = validHeld();
      if (fallback) return fallback;
    }
    let credentials: Credentials;
    try {
      credentials = await provider();
    } catch (error) {
      return onFailure(error, 'resolving credentials');
    }
    failures = 0;
    const h = remember(credentials);
    const expiresAt = credentials.expiration?.getTime();
    if (expiresAt === undefined || now() + marginFor(h) <= expiresAt || triedKey === h.key) return credentials;
    if (forced) return forced;
    const run: Promise<Credentials> = forceRenewal(h)
      .catch((error: unknown) => onFailure(error, 'renewing credentials ahead of expiry'))
      .finally(() => {
        if (forced === run) forced = undefined;
      });
    forced = run;
    return run;
  };

  return {
    get,
    health() {
      const renewing = forced !== undefined || provider.status?.().renewing === true;
      if (!held) return { state: failures > 0 ? 'failing' : 'empty', failures, renewing };
      const expiration = held.credentials.expiration;
      const base = { ...(expiration ? { expiration } : {}), failures, renewing };
      if (isExpired(held.credentials, now())) return { state: 'expired', ...base };
      if (failures > 0) return { state: 'failing', ...base };
      const inner = provider.status?.().state;
      const advisory =
        (expiration !== undefined && now() + marginFor(held) > expiration.getTime()) || inner === 'advisory' || inner === 'mandatory';
      return { state: advisory ? 'advisory' : 'fresh', ...base };
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
    get forcedRenewals() {
      return forcedRenewals;
    },
  };
}
