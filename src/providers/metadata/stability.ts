import { makeCredentials, maskAccessKeyId, type CredentialProvider, type Credentials } from '../../credentials.js';
import { messageOf } from '../../errors.js';
import type { Clock } from '../../clock.js';
import type { FullLogger } from '../../logger.js';

/** First background retry 5-10 s after the failure, then doubling (equal jitter), at most 5 minutes apart. */
export const STABILITY_BACKOFF = { baseMs: 10_000, capMs: 5 * 60_000, minMs: 5_000 } as const;
/** Expiration given to extended credentials while a background attempt is running: refreshing asks again soon. */
const IN_FLIGHT_RECHECK_MS = 1_000;

/** How a provider's static stability stands (see `staticallyStable`). */
export interface StaticStabilityStatus {
  /** True while the last credentials are served because the endpoint failed (or returned expired ones). */
  readonly extended: boolean;
  /** When the current extension began. */
  readonly since?: Date;
  /** When the next background attempt may start (a call at or after it starts one). */
  readonly nextAttemptAt?: Date;
  /** A background attempt is running now. */
  readonly attempting: boolean;
  /** Failed attempts since the extension began (the backoff step). */
  readonly failures: number;
  /** Why the last attempt failed; never a secret. */
  readonly lastError?: string;
}

/** Set on metadata providers: returns their `StaticStabilityStatus`. */
export const STABILITY_STATUS = Symbol.for('credchain.staticStability');
/** Set (non-enumerable) on extended credentials: `{ provider, since, nextAttemptAt }`. */
export const EXTENDED_MARK = Symbol.for('credchain.extendedCredentials');
const INNER_PROVIDER = Symbol.for('credchain.innerProvider');

export interface ExtendedInfo {
  readonly provider: string;
  readonly since: Date;
  readonly nextAttemptAt: Date;
}

export interface StaticStabilityOptions {
  readonly providerName: string;
  readonly now: Clock;
  /** In [0, 1): the backoff jitter. */
  readonly random: () => number;
  readonly logger: FullLogger;
  /**
   * Which source this is (e.g. the endpoint), for the process-wide attempt budget: background attempts
   * at the same source, from any provider of this process, start at least 5 s apart (12 a minute).
   */
  readonly sourceKey?: () => string | undefined;
}

export interface StaticallyStable {
  (): Promise<Credentials>;
  /** Ends an extension early: the next call asks the endpoint again and waits for it. */
  invalidate(): void;
  status(): StaticStabilityStatus;
}

/** The fetch a stable provider wraps; `background` attempts run with no retry (nobody is waiting). */
export type StableFetch = (attempt: { readonly background: boolean }) => Promise<Credentials>;

interface Extension {
  readonly since: number;
  nextAttemptAt: number;
  failures: number;
  lastError: string;
}

// Process-wide: the last background attempt per source, so two providers of one process share the budget.
const lastBackgroundAttemptAt = new Map<string, number>();

/** Delay before background attempt n+1 after n failures (n >= 1): 5-10 s, 10-20 s, ... up to 150-300 s. */
export function stabilityBackoffMs(failures: number, random: number): number {
  const step = Math.min(STABILITY_BACKOFF.capMs, STABILITY_BACKOFF.baseMs * 2 ** Math.max(0, failures - 1));
  return Math.max(STABILITY_BACKOFF.minMs, Math.floor(step / 2 + (random * step) / 2));
}

/**
 * Static stability, as the AWS SDKs do it for metadata credentials: once a fetch has succeeded, a
 * failed renewal or credentials that arrive already expired do not fail the caller. The last
 * credentials are EXTENDED: served at once, with `expiration` set to the next attempt, while the
 * source is retried in the background with exponential backoff and jitter (5-10 s, then doubling,
 * at most 5 minutes apart; at most 12 attempts a minute per source and process). Attempts are driven
 * by calls: a call at or after the next attempt time starts one and is served the extended
 * credentials without waiting; the first success replaces them for every later call. The short
 * expiration makes a `refreshing` cache ask again at the next attempt time (and about a second after
 * an attempt starts), so callers see fresh credentials within one backoff step of the source's return.
 */
export function staticallyStable(fetch: StableFetch, options: StaticStabilityOptions): StaticallyStable {
  const { providerName, now, random, logger } = options;
  let last: Credentials | undefined;
  let extension: Extension | undefined;
  /** The running background attempt (of the current extension). */
  let attempt: Promise<void> | undefined;
  /** Fresh credentials a background attempt fetched, handed to the next call (not fetched twice). */
  let handoff: Credentials | undefined;

  const isExpired = (c: Credentials) => c.expiration !== undefined && c.expiration.getTime() <= now();
  const expiredReason = (c: Credentials) => `the source returned credentials that expired at ${c.expiration!.toISOString()}`;

  const serveExtended = (ext: Extension): Credentials => {
    // The next attempt time, even when the credentials' own expiration is later: a cache then asks
    // again when the attempt is due, and so sees the first success within one backoff step. (It is
    // always ahead: a call at or after it starts an attempt or moves it on.)
    const expiration = new Date(attempt !== undefined ? now() + IN_FLIGHT_RECHECK_MS : ext.nextAttemptAt);
    const out = makeCredentials({ ...last!, expiration });
    const info: ExtendedInfo = { provider: providerName, since: new Date(ext.since), nextAttemptAt: new Date(ext.nextAttemptAt) };
    Object.defineProperty(out, EXTENDED_MARK, { value: info, enumerable: false });
    return out;
  };

  const extend = (reason: string): Credentials => {
    const t = now();
    const ext: Extension = { since: t, failures: 1, nextAttemptAt: t + stabilityBackoffMs(1, random()), lastError: reason };
    extension = ext;
    const c = last!;
    logger.warn(
      `${providerName}: ${reason}; serving EXTENDED credentials (${maskAccessKeyId(c.accessKeyId)}` +
        `${c.expiration ? `, issued to expire at ${c.expiration.toISOString()}` : ''}) while the source is retried in the background; ` +
        `next attempt at ${new Date(ext.nextAttemptAt).toISOString()}`,
    );
    return serveExtended(ext);
  };

  const failed = (ext: Extension, reason: string) => {
    ext.failures += 1;
    ext.lastError = reason;
    ext.nextAttemptAt = now() + stabilityBackoffMs(ext.failures, random());
    logger.debug(`${providerName}: attempt ${ext.failures} while extended failed (${reason}); next attempt at ${new Date(ext.nextAttemptAt).toISOString()}`);
  };

  const startBackground = (ext: Extension) => {
    const key = options.sourceKey?.();
    const t = now();
    if (key !== undefined) {
      const previous = lastBackgroundAttemptAt.get(key);
      // A sibling provider asked this source less than 5 s ago: wait for the budget (a clock that went
      // back, as with separate fake clocks, does not block).
      if (previous !== undefined && previous <= t && t - previous < STABILITY_BACKOFF.minMs) {
        ext.nextAttemptAt = previous + STABILITY_BACKOFF.minMs;
        return;
      }
      lastBackgroundAttemptAt.set(key, t);
    }
    // An attempt that ends after `invalidate()` (extension gone, or a new one begun) changes nothing.
    attempt = (async () => {
      try {
        const fresh = await fetch({ background: true });
        if (extension !== ext) return;
        attempt = undefined;
        last = fresh;
        if (isExpired(fresh)) return failed(ext, expiredReason(fresh));
        logger.info(
          `${providerName}: the source answered again; fresh credentials (${maskAccessKeyId(fresh.accessKeyId)}) replace the ` +
            `EXTENDED ones served since ${new Date(ext.since).toISOString()}`,
        );
        handoff = fresh;
        extension = undefined;
      } catch (error) {
        if (extension !== ext) return;
        attempt = undefined;
        failed(ext, messageOf(error));
      }
    })();
  };

  const provider = async (): Promise<Credentials> => {
    if (extension !== undefined) {
      if (attempt === undefined && now() >= extension.nextAttemptAt) startBackground(extension);
      return serveExtended(extension);
    }
    const ready = handoff;
    handoff = undefined;
    if (ready !== undefined && !isExpired(ready)) return ready;
    let fresh: Credentials;
    try {
      fresh = await fetch({ background: false });
    } catch (error) {
      if (last === undefined) throw error;
      return extend(`renewing credentials failed (${messageOf(error)})`);
    }
    last = fresh;
    return isExpired(fresh) ? extend(expiredReason(fresh)) : fresh;
  };
  provider.invalidate = () => {
    extension = undefined;
    attempt = undefined;
    handoff = undefined;
  };
  provider.status = (): StaticStabilityStatus => {
    if (extension === undefined) return { extended: false, attempting: false, failures: 0 };
    return {
      extended: true,
      since: new Date(extension.since),
      nextAttemptAt: new Date(extension.nextAttemptAt),
      attempting: attempt !== undefined,
      failures: extension.failures,
      lastError: extension.lastError,
    };
  };
  return provider;
}

/** Attaches `status()` and the `STABILITY_STATUS` hook (for `explain`) to a metadata provider. */
export function exposeStability<P extends CredentialProvider>(provider: P, stable: StaticallyStable): P & { status(): StaticStabilityStatus } {
  const out = provider as P & { status(): StaticStabilityStatus };
  out.status = () => stable.status();
  Object.defineProperty(out, STABILITY_STATUS, { value: () => stable.status(), enumerable: false });
  return out;
}

/**
 * Whether `credentials` (as `provider` resolved them) are extended: looks through the wrappers
 * (`INNER_PROVIDER`) for a metadata provider that says so, then at the mark on the credentials.
 */
export function extendedInfoOf(provider: CredentialProvider, credentials: Credentials | undefined): ExtendedInfo | undefined {
  // Wrappers are followed until one repeats (a cycle would loop forever).
  const seen = new Set<unknown>();
  let current: unknown = provider;
  while (current && !seen.has(current)) {
    seen.add(current);
    const hook = (current as Record<symbol, unknown>)[STABILITY_STATUS];
    if (typeof hook === 'function') {
      const s = (hook as () => StaticStabilityStatus)();
      if (s.extended) return { provider: providerOf(current), since: s.since!, nextAttemptAt: s.nextAttemptAt! };
      break;
    }
    current = (current as Record<symbol, unknown>)[INNER_PROVIDER];
  }
  const mark = credentials ? (credentials as unknown as Record<symbol, unknown>)[EXTENDED_MARK] : undefined;
  return mark as ExtendedInfo | undefined;
}

function providerOf(p: unknown): string {
  const name = (p as Record<symbol, unknown>)[Symbol.for('credchain.providerName')];
  return typeof name === 'string' ? name : 'metadata';
}
