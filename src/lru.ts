import type { Clock } from './clock.js';

/**
 * A small bounded map with least-recently-used eviction and a time to live per entry: what the STS
 * session cache needs from `lru-cache`, in one Map. A Map iterates in insertion order, so the first
 * key is the least recently used one as long as every read re-inserts the entry it returns.
 *
 * It is not a general cache: no fetch, no stale reads, no size by weight, no timers. An expired
 * entry leaves when it is read, when `purgeStale()` runs, or when newer entries push it out.
 */
export class LruMap<K, V> {
  private readonly entries = new Map<K, { value: V; expiresAt: number }>();

  /**
   * @param maxEntries most entries kept; setting one more drops the least recently used.
   * @param now the clock entries expire by (ms).
   */
  constructor(
    readonly maxEntries: number,
    private readonly now: Clock,
  ) {
    if (!(Number.isInteger(maxEntries) && maxEntries >= 1)) throw new RangeError(`LruMap: maxEntries must be an integer >= 1 (got ${String(maxEntries)})`);
  }

  /** The live value for `key` (and marks it most recently used), or undefined when absent or expired. */
  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    if (this.now() >= entry.expiresAt) return undefined;
    this.entries.set(key, entry);
    return entry.value;
  }

  /** Stores `value` for `ttlMs` from now (an entry whose ttl is not positive is not stored), as the most recently used. */
  set(key: K, value: V, ttlMs: number): void {
    this.entries.delete(key);
    if (!(ttlMs > 0)) return;
    this.entries.set(key, { value, expiresAt: this.now() + ttlMs });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as K);
  }

  delete(key: K): boolean {
    return this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  /** Drops every expired entry. */
  purgeStale(): void {
    const nowMs = this.now();
    for (const [key, entry] of this.entries) if (nowMs >= entry.expiresAt) this.entries.delete(key);
  }

  /** Entries held, expired ones not yet purged included. */
  get size(): number {
    return this.entries.size;
  }
}
