import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Credentials } from '../../src/credentials.js';
import { CredentialsError } from '../../src/errors.js';
import {
  callerDigestOf,
  clearStsSessionCache,
  configureStsSessionCache,
  digestOf,
  dropSession,
  privateScope,
  sessionKeyOf,
  sharedSession,
  stsSessionCacheInfo,
} from '../../src/providers/sts/session-cache.js';
import { createFakeClock } from '../../src/testing/fake-clock.js';

// Tests added from the surviving mutants of `npm run mutate` (bench/MUTATION.md).
const T0 = Date.UTC(2030, 0, 1);
afterEach(() => configureStsSessionCache({ enabled: true, maxEntries: 100, now: undefined }));

const session = (key: string, expiresAt?: number): Credentials => ({
  accessKeyId: key,
  secretAccessKey: 's',
  ...(expiresAt !== undefined ? { expiration: new Date(expiresAt) } : {}),
});

describe('sts/session-cache (mutation)', () => {
  it('settings: defaults, maxEntries checked, enabled and now kept unless given', () => {
    configureStsSessionCache({});
    expect(stsSessionCacheInfo()).toEqual({ enabled: true, maxEntries: 100, size: 0 });
    for (const bad of [0, 1.5, -1, Number.NaN]) {
      expect(() => configureStsSessionCache({ maxEntries: bad })).toThrow(
        `configureStsSessionCache(): option maxEntries must be an integer >= 1 (got ${String(bad)})`,
      );
    }
    try {
      configureStsSessionCache({ maxEntries: 0 });
    } catch (e) {
      expect(e).toBeInstanceOf(CredentialsError);
      expect((e as CredentialsError).providerName).toBe('sts-session-cache');
    }
    configureStsSessionCache({ maxEntries: 1 });
    expect(stsSessionCacheInfo()).toEqual({ enabled: true, maxEntries: 1, size: 0 });
    configureStsSessionCache({ enabled: false });
    expect(stsSessionCacheInfo()).toEqual({ enabled: false, maxEntries: 1, size: 0 });
    configureStsSessionCache({ maxEntries: 3 });
    expect(stsSessionCacheInfo()).toEqual({ enabled: false, maxEntries: 3, size: 0 });
  });

  it('shares a stored session, keeps it for its remaining lifetime on the cache clock, evicts the least recent', async () => {
    const clock = createFakeClock(T0);
    configureStsSessionCache({ now: clock.now, maxEntries: 2 });
    let fetches = 0;
    const request = (key: string, expiresAt?: number, shareable = true) => ({
      key,
      now: clock.now,
      shareable: () => shareable,
      fetch: async () => {
        fetches += 1;
        return session(`${key}-${fetches}`, expiresAt);
      },
    });
    const first = await sharedSession(request('a', T0 + 1000));
    expect(first).toEqual({ credentials: session('a-1', T0 + 1000), cached: false });
    expect(await sharedSession(request('a', T0 + 1000))).toEqual({ credentials: session('a-1', T0 + 1000), cached: true });
    expect(stsSessionCacheInfo().size).toBe(1);
    // Not shareable (in the reader's renewal window): a new fetch, stored in its place.
    expect((await sharedSession(request('a', T0 + 2000, false))).cached).toBe(false);
    expect((await sharedSession(request('a', T0 + 2000))).credentials.accessKeyId).toBe('a-2');
    // The shareable callback gets the session and the time.
    const seen: unknown[] = [];
    await sharedSession({ ...request('a'), shareable: (s, t) => (seen.push(s.obtainedAt, s.expiresAt, t), true) });
    expect(seen).toEqual([T0, T0 + 2000, T0]);
    // Without an expiration: not stored.
    await sharedSession(request('noexp'));
    expect((await sharedSession(request('noexp'))).cached).toBe(false);
    expect(stsSessionCacheInfo().size).toBe(1);
    // Expired on the cache clock: gone.
    clock.advance(2000);
    expect(stsSessionCacheInfo().size).toBe(0);
    clock.set(T0);
    // LRU of 2.
    await sharedSession(request('x', T0 + 10_000));
    await sharedSession(request('y', T0 + 10_000));
    await sharedSession(request('z', T0 + 10_000));
    expect(stsSessionCacheInfo().size).toBe(2);
    const before = fetches;
    expect((await sharedSession(request('z', T0 + 10_000))).cached).toBe(true);
    expect(fetches).toBe(before);
  });

  it('concurrent callers share one fetch; a dropped fetch is not stored; a failed one is not kept', async () => {
    const clock = createFakeClock(T0);
    configureStsSessionCache({ now: clock.now });
    let release!: (c: Credentials) => void;
    let fetches = 0;
    const slow = {
      key: 'k',
      now: clock.now,
      shareable: () => true,
      fetch: () => {
        fetches += 1;
        return new Promise<Credentials>((r) => (release = r));
      },
    };
    const a = sharedSession(slow);
    const b = sharedSession(slow);
    await Promise.resolve();
    release(session('one', T0 + 1000));
    expect(await a).toEqual({ credentials: session('one', T0 + 1000), cached: false });
    expect(await b).toEqual({ credentials: session('one', T0 + 1000), cached: true });
    expect(fetches).toBe(1);
    dropSession('k');
    expect(stsSessionCacheInfo().size).toBe(0);
    const c = sharedSession(slow);
    await Promise.resolve();
    dropSession('k');
    release(session('two', T0 + 1000));
    expect((await c).credentials.accessKeyId).toBe('two');
    expect(stsSessionCacheInfo().size).toBe(0);
    // A new fetch after the drop is not joined to the dropped one.
    let n = 0;
    const failing = { key: 'f', now: clock.now, shareable: () => true, fetch: async () => Promise.reject(new Error(`no ${++n}`)) };
    await expect(sharedSession(failing)).rejects.toThrow('no 1');
    await expect(sharedSession(failing)).rejects.toThrow('no 2');
    clearStsSessionCache();
  });

  it('off: every call fetches', async () => {
    configureStsSessionCache({ enabled: false });
    let n = 0;
    const r = { key: 'k', now: () => T0, shareable: () => true, fetch: async () => session(`s${++n}`, T0 + 1000) };
    expect(await sharedSession(r)).toEqual({ credentials: session('s1', T0 + 1000), cached: false });
    expect(await sharedSession(r)).toEqual({ credentials: session('s2', T0 + 1000), cached: false });
    expect(stsSessionCacheInfo().size).toBe(0);
  });

  it('keys: keyed digests, the whole caller identity, private scopes differ', async () => {
    const d = await digestOf('secret');
    expect(d).toMatch(/^[0-9a-f]{64}$/);
    expect(await digestOf('secret')).toBe(d);
    expect(await digestOf('other')).not.toBe(d);
    const base = { accessKeyId: 'AKID', secretAccessKey: 'S1' };
    const digest = await callerDigestOf(base);
    expect(await callerDigestOf({ ...base })).toBe(digest);
    expect(await callerDigestOf({ ...base, secretAccessKey: 'S2' })).not.toBe(digest);
    expect(await callerDigestOf({ ...base, sessionToken: 'T' })).not.toBe(digest);
    expect(await callerDigestOf({ ...base, accessKeyId: 'AKID2' })).not.toBe(digest);
    expect(digest).toBe(await digestOf(JSON.stringify(['caller', 'AKID', 'S1', null])));
    expect(await sessionKeyOf(['a', 1])).toBe(await digestOf(JSON.stringify(['a', 1])));
    const p1 = privateScope();
    const p2 = privateScope();
    expect(p1).toMatch(/^private-\d+$/);
    expect(Number(p2.slice(8))).toBe(Number(p1.slice(8)) + 1);
  });

  it('a fresh process starts enabled with 100 entries, and dropping a session before any was cached is harmless', async () => {
    vi.resetModules();
    const fresh = await import('../../src/providers/sts/session-cache.js');
    expect(fresh.stsSessionCacheInfo()).toEqual({ enabled: true, maxEntries: 100, size: 0 });
    expect(() => fresh.dropSession('nothing')).not.toThrow();
    expect(() => fresh.clearStsSessionCache()).not.toThrow();
  });

  it('clearStsSessionCache forgets stored sessions and fetches under way', async () => {
    const clock = createFakeClock(T0);
    configureStsSessionCache({ now: clock.now });
    let fetches = 0;
    const request = (release?: Promise<void>) => ({
      key: 'k-clear',
      now: clock.now,
      shareable: () => true,
      fetch: async () => {
        fetches += 1;
        await release;
        return session(`AKID${fetches}`, T0 + 3_600_000);
      },
    });
    await sharedSession(request());
    clearStsSessionCache();
    expect(stsSessionCacheInfo().size).toBe(0);
    expect((await sharedSession(request())).cached).toBe(false);
    expect(fetches).toBe(2);

    let release!: () => void;
    clearStsSessionCache();
    const slow = sharedSession(request(new Promise<void>((r) => (release = r))));
    clearStsSessionCache();
    const next = sharedSession(request());
    expect((await next).cached).toBe(false);
    release();
    await slow;
    expect(fetches).toBe(4);
  });

  it('a dropped fetch that settles late does not forget the fetch that replaced it', async () => {
    const clock = createFakeClock(T0);
    configureStsSessionCache({ now: clock.now });
    let fetches = 0;
    const releases: Array<() => void> = [];
    const request = {
      key: 'k-late',
      now: clock.now,
      shareable: () => true,
      fetch: async () => {
        fetches += 1;
        await new Promise<void>((r) => releases.push(r));
        return session(`AKID${fetches}`, T0 + 3_600_000);
      },
    };
    const first = sharedSession(request);
    await Promise.resolve();
    dropSession('k-late');
    const second = sharedSession(request);
    await Promise.resolve();
    expect(fetches).toBe(2);
    releases[0]!();
    await first;
    // The second fetch is still under way: a third caller joins it rather than starting another.
    const third = sharedSession(request);
    await Promise.resolve();
    expect(fetches).toBe(2);
    releases[1]!();
    expect((await third).credentials.accessKeyId).toBe('AKID2');
    expect((await second).cached).toBe(false);
  });
});
