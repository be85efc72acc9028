import { systemClock, type Clock } from '../../clock.js';
import type { Credentials } from '../../credentials.js';
import { CredentialsError } from '../../errors.js';
import { LruMap } from '../../lru.js';

/**
 * The process-wide cache of STS sessions, shared by every STS-backed provider, so two providers that
 * assume the same role from the same source with the same parameters make one STS call, not two.
 *
 * It is not a credential cache for callers (that is `refreshing`): it only answers "is there a
 * session for exactly these parameters that is still worth handing to a new holder?". Keys are
 * keyed digests (HMAC-SHA-256 with a random key made once per process) of every parameter that
 * changes the result, the caller's whole identity included (access key id, secret access key and
 * session token: a right key id with a wrong secret never gets another caller's session), so no
 * secret, token, assertion or policy is kept in a key, and a key cannot be checked against a guess
 * outside the process. A session obtained with an MFA code is shared only within the provider that
 * asked for the code (see `privateScope`).
 */

export interface StsSessionCacheOptions {
  /** Turns the cache off (every provider then calls STS for itself) or back on. @default true */
  readonly enabled?: boolean;
  /** Most sessions kept; the least recently used leaves first. @default 100 */
  readonly maxEntries?: number;
  /** Clock for expiring entries (ms since epoch). For tests with a fake clock. @default Date.now */
  readonly now?: Clock;
}

export interface StsSessionCacheInfo {
  readonly enabled: boolean;
  readonly maxEntries: number;
  /** Sessions held now (entries past their expiration may linger until touched). */
  readonly size: number;
}

/** One cached session. `obtainedAt` lets each reader judge freshness with its own renewal windows. */
export interface CachedSession {
  readonly credentials: Credentials;
  readonly obtainedAt: number;
  readonly expiresAt: number;
}

const DEFAULT_MAX_ENTRIES = 100;

let settings: Required<Omit<StsSessionCacheOptions, 'now'>> & { now: Clock | undefined } = {
  enabled: true,
  maxEntries: DEFAULT_MAX_ENTRIES,
  now: undefined,
};
let cache: LruMap<string, CachedSession> | undefined;
/** Fetches under way, so concurrent providers with the same key share one STS call. */
const inflight = new Map<string, Promise<Credentials>>();

/**
 * Sets the size of the shared STS session cache, or turns it off. Replacing the settings empties
 * the cache. Provider-level opt-out: `sessionCache: false` on any STS-backed provider.
 */
export function configureStsSessionCache(options: StsSessionCacheOptions): void {
  const maxEntries = options.maxEntries ?? settings.maxEntries;
  if (!(Number.isInteger(maxEntries) && maxEntries >= 1))
    throw new CredentialsError(`configureStsSessionCache(): option maxEntries must be an integer >= 1 (got ${String(maxEntries)})`, {
      providerName: 'sts-session-cache',
    });
  settings = { enabled: options.enabled ?? settings.enabled, maxEntries, now: 'now' in options ? options.now : settings.now };
  clearStsSessionCache();
  cache = undefined;
}

/** Forgets every cached STS session (providers keep their own `refreshing` caches). */
export function clearStsSessionCache(): void {
  cache?.clear();
  inflight.clear();
}

/** The cache's settings and how many unexpired sessions it holds. */
export function stsSessionCacheInfo(): StsSessionCacheInfo {
  cache?.purgeStale();
  return { enabled: settings.enabled, maxEntries: settings.maxEntries, size: cache?.size ?? 0 };
}

let hmacKey: Promise<{ createHmac: typeof import('node:crypto').createHmac; key: Buffer }> | undefined;

/**
 * HMAC-SHA-256 (hex) of a secret (token, assertion, secret access key) under a random key made once
 * per process: goes into keys instead of the secret itself.
 */
export async function digestOf(secret: string): Promise<string> {
  // node:crypto loads on first use, keeping it off the import path of the package root.
  hmacKey ??= import('node:crypto').then(({ createHmac, randomBytes }) => ({ createHmac, key: randomBytes(32) }));
  const { createHmac, key } = await hmacKey;
  return createHmac('sha256', key).update(secret).digest('hex');
}

/**
 * The caller's whole identity as one digest: access key id, secret access key and session token.
 * Signed STS calls key on this, never on the access key id alone.
 */
export function callerDigestOf(caller: Credentials): Promise<string> {
  return digestOf(JSON.stringify(['caller', caller.accessKeyId, caller.secretAccessKey, caller.sessionToken ?? null]));
}

let scopes = 0;
/**
 * A key part no other provider has: sessions keyed with it are shared only within the provider that
 * made it. MFA-protected providers use one, so a session obtained with one provider's MFA code is
 * never handed to another provider that has not asked its own `tokenCode`.
 */
export function privateScope(): string {
  return `private-${++scopes}`;
}

/** The cache key for a session: a digest of every part that changes the STS result. */
export function sessionKeyOf(parts: readonly unknown[]): Promise<string> {
  return digestOf(JSON.stringify(parts));
}

/** The cache, made on first use with the current settings; undefined when the cache is off. */
function theCache(): LruMap<string, CachedSession> | undefined {
  if (!settings.enabled) return undefined;
  cache ??= new LruMap<string, CachedSession>(settings.maxEntries, settings.now ?? systemClock);
  return cache;
}

export interface SharedSessionRequest {
  readonly key: string;
  readonly now: Clock;
  /** Whether a cached session may be handed to this caller (not yet in its renewal window). */
  readonly shareable: (session: CachedSession, nowMs: number) => boolean;
  /** Calls STS. */
  readonly fetch: () => Promise<Credentials>;
}

/** A session for `key`: a shareable cached one, the fetch already under way for it, or a new fetch. */
export async function sharedSession(request: SharedSessionRequest): Promise<{ credentials: Credentials; cached: boolean }> {
  const store = theCache();
  if (!store) return { credentials: await request.fetch(), cached: false };
  const { key, now } = request;
  const hit = store.get(key);
  if (hit && request.shareable(hit, now())) return { credentials: hit.credentials, cached: true };
  const pending = inflight.get(key);
  if (pending) return { credentials: await pending, cached: true };

  const fetching: Promise<Credentials> = request.fetch().then((credentials) => {
    // Stored only if nobody dropped this fetch meanwhile (`invalidate()` during the call).
    if (inflight.get(key) === fetching && credentials.expiration) {
      const obtainedAt = now();
      const expiresAt = credentials.expiration.getTime();
      // Kept for the credentials' remaining lifetime, measured on the cache's clock.
      store.set(key, { credentials, obtainedAt, expiresAt }, expiresAt - obtainedAt);
    }
    return credentials;
  });
  inflight.set(key, fetching);
  try {
    return { credentials: await fetching, cached: false };
  } finally {
    if (inflight.get(key) === fetching) inflight.delete(key);
  }
}

/** Drops the session for `key` (and forgets a fetch under way for it). */
export function dropSession(key: string): void {
  cache?.delete(key);
  inflight.delete(key);
}
