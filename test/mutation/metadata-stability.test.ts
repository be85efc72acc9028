import { describe, expect, it } from 'vitest';
import type { Credentials } from '../../src/credentials.js';
import { toFullLogger } from '../../src/logger.js';
import { named } from '../../src/provider.js';
import { refreshing } from '../../src/refreshing.js';
import {
  EXTENDED_MARK,
  STABILITY_BACKOFF,
  STABILITY_STATUS,
  exposeStability,
  extendedInfoOf,
  stabilityBackoffMs,
  staticallyStable,
  type StableFetch,
} from '../../src/providers/metadata/stability.js';
import { createFakeClock } from '../../src/testing/fake-clock.js';

// Tests added from the surviving mutants of `npm run mutate` (bench/MUTATION.md).
const T0 = Date.UTC(2030, 0, 1);
const iso = (ms: number) => new Date(ms).toISOString();
const flush = () => new Promise((r) => setTimeout(r, 0));

function setup(sourceKey?: () => string | undefined) {
  const clock = createFakeClock(T0);
  const lines: string[] = [];
  const steps: Array<(background: boolean) => Promise<Credentials>> = [];
  const backgrounds: boolean[] = [];
  const fetch: StableFetch = async ({ background }) => {
    backgrounds.push(background);
    const step = steps.shift();
    if (!step) throw new Error('no step');
    return step(background);
  };
  const logger = toFullLogger({
    debug: (m: string) => lines.push(`debug ${m}`),
    info: (m: string) => lines.push(`info ${m}`),
    warn: (m: string) => lines.push(`warn ${m}`),
  });
  const stable = staticallyStable(fetch, { providerName: 'p', now: clock.now, random: () => 0, logger, ...(sourceKey ? { sourceKey } : {}) });
  const ok = (key: string, expiration?: number) =>
    steps.push(async () => ({ accessKeyId: key, secretAccessKey: 's', ...(expiration !== undefined ? { expiration: new Date(expiration) } : {}) }));
  const fail = (message = 'boom') => steps.push(async () => Promise.reject(new Error(message)));
  /** A step that waits until the test settles it: `resolve(key)` or `reject(message)`. */
  const gated = () => {
    let settle!: (outcome: { key: string; expiration?: number } | { error: string }) => void;
    const outcome = new Promise<{ key: string; expiration?: number } | { error: string }>((r) => (settle = r));
    steps.push(async () => {
      const o = await outcome;
      if ('error' in o) throw new Error(o.error);
      return { accessKeyId: o.key, secretAccessKey: 's', ...(o.expiration !== undefined ? { expiration: new Date(o.expiration) } : {}) };
    });
    return {
      resolve: async (key: string, expiration?: number) => {
        settle({ key, ...(expiration !== undefined ? { expiration } : {}) });
        await flush();
      },
      reject: async (error: string) => {
        settle({ error });
        await flush();
      },
    };
  };
  /** First success at T0 (valid an hour), then a failed renewal: extended, next attempt at T0 + 5 s. */
  const extended = async (key = 'ASIAKEY00001') => {
    ok(key, T0 + 3_600_000);
    await stable();
    fail();
    await stable();
  };
  return { clock, lines, stable, ok, fail, gated, extended, backgrounds };
}

describe('metadata/stability (mutation)', () => {
  it('backoff: 5-10 s, doubling, capped at 5 minutes, never under 5 s', () => {
    expect(STABILITY_BACKOFF).toEqual({ baseMs: 10_000, capMs: 300_000, minMs: 5_000 });
    expect(stabilityBackoffMs(1, 0)).toBe(5_000);
    expect(stabilityBackoffMs(1, 0.5)).toBe(7_500);
    expect(stabilityBackoffMs(1, 1)).toBe(10_000);
    expect(stabilityBackoffMs(2, 0)).toBe(10_000);
    expect(stabilityBackoffMs(3, 0.5)).toBe(30_000);
    expect(stabilityBackoffMs(6, 0)).toBe(150_000);
    expect(stabilityBackoffMs(9, 1)).toBe(300_000);
    expect(stabilityBackoffMs(0, 0)).toBe(5_000);
    expect(stabilityBackoffMs(1, 0.33333)).toBe(6_666);
  });

  it('the first fetch failing is an error; later failures extend, retried in the background until the source answers', async () => {
    const { clock, lines, stable, ok, fail, backgrounds } = setup();
    fail('first');
    await expect(stable()).rejects.toThrow('first');
    expect(stable.status()).toEqual({ extended: false, attempting: false, failures: 0 });

    const exp = T0 + 3_600_000;
    ok('ASIASTABLE01', exp);
    expect((await stable()).accessKeyId).toBe('ASIASTABLE01');
    fail();
    const extended = await stable();
    expect(extended.accessKeyId).toBe('ASIASTABLE01');
    expect(extended.expiration).toEqual(new Date(T0 + 5_000));
    expect((extended as unknown as Record<symbol, unknown>)[EXTENDED_MARK]).toEqual({ provider: 'p', since: new Date(T0), nextAttemptAt: new Date(T0 + 5_000) });
    expect(Object.getOwnPropertyDescriptor(extended, EXTENDED_MARK)?.enumerable).toBe(false);
    expect(lines).toEqual([
      `warn p: renewing credentials failed (boom); serving EXTENDED credentials (****LE01, issued to expire at ${iso(exp)}) while the source is retried in the background; next attempt at ${iso(T0 + 5_000)}`,
    ]);
    expect(stable.status()).toEqual({
      extended: true,
      since: new Date(T0),
      nextAttemptAt: new Date(T0 + 5_000),
      attempting: false,
      failures: 1,
      lastError: 'renewing credentials failed (boom)',
    });

    // Before the next attempt time: no fetch.
    clock.advance(4_999);
    expect((await stable()).expiration).toEqual(new Date(T0 + 5_000));
    expect(backgrounds).toEqual([false, false, false]);

    // At it: a background attempt, the caller served at once (expiration a second away while it runs).
    clock.advance(1);
    fail('boom2');
    const during = await stable();
    expect(during.expiration).toEqual(new Date(T0 + 6_000));
    expect(stable.status().attempting).toBe(true);
    await flush();
    expect(backgrounds).toEqual([false, false, false, true]);
    expect(lines[1]).toBe(`debug p: attempt 2 while extended failed (boom2); next attempt at ${iso(T0 + 15_000)}`);
    expect(stable.status()).toMatchObject({ attempting: false, failures: 2, lastError: 'boom2', nextAttemptAt: new Date(T0 + 15_000) });

    // Expired credentials from the background attempt are a failure too.
    clock.set(T0 + 15_000);
    ok('ASIASTALE002', T0 + 15_000);
    await stable();
    await flush();
    expect(lines[2]).toBe(
      `debug p: attempt 3 while extended failed (the source returned credentials that expired at ${iso(T0 + 15_000)}); next attempt at ${iso(T0 + 35_000)}`,
    );
    // ... and they are what is served (extended) from now on.
    expect((await stable()).accessKeyId).toBe('ASIASTALE002');

    // The source answers: fresh credentials replace the extended ones, handed over without a second fetch.
    clock.set(T0 + 35_000);
    ok('ASIAFRESH003', T0 + 7_200_000);
    expect((await stable()).accessKeyId).toBe('ASIASTALE002');
    await flush();
    expect(lines[3]).toBe(`info p: the source answered again; fresh credentials (****H003) replace the EXTENDED ones served since ${iso(T0)}`);
    const fresh = await stable();
    expect(fresh.accessKeyId).toBe('ASIAFRESH003');
    expect(fresh.expiration).toEqual(new Date(T0 + 7_200_000));
    expect(backgrounds).toHaveLength(6);
    expect(stable.status()).toEqual({ extended: false, attempting: false, failures: 0 });
    // The handoff is used once: the next call fetches.
    ok('ASIANEXT0004', T0 + 7_200_000);
    expect((await stable()).accessKeyId).toBe('ASIANEXT0004');
    expect(backgrounds).toEqual([false, false, false, true, true, true, false]);
  });

  it('credentials that arrive expired extend the last ones; no expiration means no "issued to expire" part', async () => {
    const { clock, lines, stable, ok } = setup();
    ok('ASIANOEXP001');
    await stable();
    clock.advance(10);
    ok('ASIAOLD00002', T0 + 10);
    const served = await stable();
    expect(served.accessKeyId).toBe('ASIAOLD00002');
    expect(lines).toEqual([
      `warn p: the source returned credentials that expired at ${iso(T0 + 10)}; serving EXTENDED credentials (****0002, issued to expire at ${iso(T0 + 10)}) while the source is retried in the background; next attempt at ${iso(T0 + 5_010)}`,
    ]);
    const { stable: s2, lines: l2, ok: ok2, fail: fail2 } = setup();
    ok2('ASIANOEXP001');
    await s2();
    fail2();
    await s2();
    expect(l2[0]).toBe(
      `warn p: renewing credentials failed (boom); serving EXTENDED credentials (****P001) while the source is retried in the background; next attempt at ${iso(T0 + 5_000)}`,
    );
  });

  it('an extended expiration is never in the past, even when the attempt time is', async () => {
    const { clock, stable, ok, fail } = setup(() => 'budget-past');
    ok('ASIAKEY00001', T0 + 3_600_000);
    await stable();
    fail();
    await stable();
    // A sibling used the budget: the attempt is pushed to previous + 5 s, not started.
    clock.advance(5_000);
    fail();
    await stable();
    await flush();
    clock.advance(4_000);
    const c = await stable();
    expect(c.expiration!.getTime()).toBeGreaterThan(clock.now());
  });

  it('background attempts at one source share a 5 s budget across providers', async () => {
    const a = setup(() => 'shared-source');
    const b = setup(() => 'shared-source');
    for (const s of [a, b]) {
      s.ok('ASIAKEY00001', T0 + 3_600_000);
      await s.stable();
      s.fail();
      await s.stable();
    }
    a.clock.advance(5_000);
    b.clock.advance(6_000);
    a.fail();
    await a.stable();
    await flush();
    expect(a.backgrounds).toEqual([false, false, true]);
    // b is due (6 s > 5 s) but a asked the same source 1 s before: b waits until a's attempt + 5 s.
    b.clock.set(T0 + 6_000);
    a.clock.set(T0 + 5_000);
    await b.stable();
    expect(b.backgrounds).toEqual([false, false]);
    expect(b.stable.status().nextAttemptAt).toEqual(new Date(T0 + 10_000));
    b.clock.set(T0 + 10_000);
    b.fail();
    await b.stable();
    await flush();
    expect(b.backgrounds).toEqual([false, false, true]);
    // A clock that went back does not block.
    const c = setup(() => 'shared-source');
    c.ok('ASIAKEY00001', T0 + 3_600_000);
    await c.stable();
    c.fail();
    c.clock.set(T0 - 100_000);
    await c.stable();
    c.clock.set(T0 - 95_000);
    c.fail();
    await c.stable();
    await flush();
    expect(c.backgrounds).toEqual([false, false, true]);
    // Without a source key there is no budget.
    const d = setup(() => undefined);
    const e = setup(() => undefined);
    for (const s of [d, e]) {
      s.ok('ASIAKEY00001', T0 + 3_600_000);
      await s.stable();
      s.fail();
      await s.stable();
      s.clock.advance(5_000);
      s.fail();
      await s.stable();
      await flush();
      expect(s.backgrounds).toEqual([false, false, true]);
    }
  });

  it('invalidate ends an extension: the next call waits for the source; an older attempt changes nothing', async () => {
    const { clock, stable, ok, fail, backgrounds } = setup();
    ok('ASIAKEY00001', T0 + 3_600_000);
    await stable();
    fail();
    await stable();
    clock.advance(5_000);
    let release!: () => void;
    backgrounds.length = 0;
    const gate = new Promise<void>((r) => (release = r));
    ok('ASIAIGNORED1', T0 + 3_600_000);
    await stable();
    stable.invalidate();
    expect(stable.status()).toEqual({ extended: false, attempting: false, failures: 0 });
    await flush();
    release();
    await gate;
    ok('ASIAKEY00002', T0 + 3_600_000);
    expect((await stable()).accessKeyId).toBe('ASIAKEY00002');
    expect(backgrounds).toEqual([true, false]);
  });

  it('exposeStability and extendedInfoOf look through wrappers, else at the mark', async () => {
    const { stable, ok, fail } = setup();
    const provider = exposeStability(named('imds', async () => stable()), stable);
    expect(Object.getOwnPropertyDescriptor(provider, STABILITY_STATUS)?.enumerable).toBe(false);
    expect(provider.status()).toEqual({ extended: false, attempting: false, failures: 0 });
    ok('ASIAKEY00001', T0 + 3_600_000);
    const first = await provider();
    expect(extendedInfoOf(provider, first)).toBeUndefined();
    fail();
    const extended = await provider();
    const wrapped = refreshing(provider);
    expect(extendedInfoOf(wrapped, undefined)).toEqual({ provider: 'imds', since: new Date(T0), nextAttemptAt: new Date(T0 + 5_000) });
    expect(provider.status().extended).toBe(true);
    const unnamed = exposeStability((() => async () => stable())(), stable);
    expect(extendedInfoOf(unnamed, undefined)?.provider).toBe('metadata');
    // No hook anywhere: the mark on the credentials decides.
    const plain = named('x', async () => extended);
    expect(extendedInfoOf(plain, extended)).toEqual({ provider: 'p', since: new Date(T0), nextAttemptAt: new Date(T0 + 5_000) });
    expect(extendedInfoOf(plain, first)).toBeUndefined();
    expect(extendedInfoOf(plain, undefined)).toBeUndefined();
  });

  it('one background attempt at a time: calls while it runs start no other, whatever the time', async () => {
    const { clock, stable, gated, extended, backgrounds } = setup();
    await extended();
    clock.advance(5_000);
    const running = gated();
    expect((await stable()).expiration).toEqual(new Date(T0 + 6_000));
    clock.advance(60_000);
    const during = await stable();
    expect(during.expiration).toEqual(new Date(T0 + 66_000)); // a second from now, not the (past) attempt time
    expect(stable.status()).toMatchObject({ attempting: true, failures: 1 });
    expect(backgrounds).toEqual([false, false, true]);
    await running.reject('still down');
    expect(stable.status()).toMatchObject({ attempting: false, failures: 2, lastError: 'still down', nextAttemptAt: new Date(T0 + 75_000) });
    expect((await stable()).expiration).toEqual(new Date(T0 + 75_000));
  });

  it('an attempt that ends after invalidate changes nothing, even once a new extension has begun', async () => {
    for (const outcome of ['success', 'failure'] as const) {
      const { clock, stable, ok, fail, gated, extended, backgrounds } = setup();
      await extended();
      clock.advance(5_000);
      const old = gated();
      await stable(); // starts the old attempt
      stable.invalidate();
      // The next call waits for the source; it fails, so a new extension begins (no attempt running).
      fail('down again');
      const again = await stable();
      expect(again.expiration).toEqual(new Date(T0 + 10_000));
      expect(stable.status()).toEqual({
        extended: true,
        since: new Date(T0 + 5_000),
        nextAttemptAt: new Date(T0 + 10_000),
        attempting: false,
        failures: 1,
        lastError: 'renewing credentials failed (down again)',
      });
      // Its attempt is due and starts...
      clock.advance(5_000);
      const current = gated();
      await stable();
      expect(stable.status().attempting).toBe(true);
      // ... and the old one ends now: no effect on the new extension, its attempt or the credentials served.
      if (outcome === 'success') await old.resolve('ASIAOLDFRESH', T0 + 7_200_000);
      else await old.reject('old failure');
      expect(stable.status()).toMatchObject({ extended: true, since: new Date(T0 + 5_000), attempting: true, failures: 1 });
      clock.advance(1_000);
      const served = await stable();
      expect(served.accessKeyId).toBe('ASIAKEY00001');
      expect(served.expiration).toEqual(new Date(T0 + 12_000));
      expect(backgrounds).toEqual([false, false, true, false, true]);
      await current.resolve('ASIANEWFRESH', T0 + 7_200_000);
      expect((await stable()).accessKeyId).toBe('ASIANEWFRESH');
      expect(stable.status().extended).toBe(false);
      ok('ASIAAFTER001', T0 + 7_200_000);
      expect((await stable()).accessKeyId).toBe('ASIAAFTER001');
    }
  });

  it('handed-over credentials are served only while valid; without an expiration they always are', async () => {
    // Expired by the time of the next call (or expiring exactly then): the call asks the source.
    for (const lateBy of [1, 0]) {
      const { clock, stable, ok, extended, backgrounds } = setup();
      await extended();
      clock.advance(5_000);
      ok('ASIASHORT001', T0 + 6_000);
      await stable();
      await flush();
      expect(stable.status().extended).toBe(false);
      clock.set(T0 + 6_000 + lateBy);
      ok('ASIANEXT0001', T0 + 7_200_000);
      expect((await stable()).accessKeyId).toBe('ASIANEXT0001');
      expect(backgrounds).toEqual([false, false, true, false]);
    }
    const { clock, stable, ok, extended, backgrounds } = setup();
    await extended();
    clock.advance(5_000);
    ok('ASIANOEXP001');
    await stable();
    await flush();
    clock.advance(86_400_000);
    const handed = await stable();
    expect(handed.accessKeyId).toBe('ASIANOEXP001');
    expect(handed.expiration).toBeUndefined();
    expect(backgrounds).toEqual([false, false, true]);
  });

  it('after the source answered again, a later failed renewal extends the fresh credentials', async () => {
    const { clock, stable, ok, fail, extended, lines } = setup();
    await extended('ASIAOLDKEY01');
    clock.advance(5_000);
    ok('ASIAFRESHKEY', T0 + 60_000);
    await stable();
    await flush();
    expect((await stable()).accessKeyId).toBe('ASIAFRESHKEY');
    clock.set(T0 + 120_000);
    fail('down');
    const served = await stable();
    expect(served.accessKeyId).toBe('ASIAFRESHKEY');
    expect(served.expiration).toEqual(new Date(T0 + 125_000));
    expect(lines.at(-1)).toContain('(****HKEY, issued to expire at');
  });

  it('invalidate also drops credentials a background attempt handed over: the next call asks the source', async () => {
    const { clock, stable, ok, extended, backgrounds } = setup();
    await extended();
    clock.advance(5_000);
    ok('ASIAHANDOFF1', T0 + 7_200_000);
    await stable();
    await flush();
    stable.invalidate();
    ok('ASIAASKED001', T0 + 7_200_000);
    expect((await stable()).accessKeyId).toBe('ASIAASKED001');
    expect(backgrounds).toEqual([false, false, true, false]);
  });

  it('the source budget also holds for a sibling due in the same millisecond', async () => {
    const a = setup(() => 'same-ms-source');
    const b = setup(() => 'same-ms-source');
    await a.extended();
    await b.extended();
    a.clock.set(T0 + 5_000);
    b.clock.set(T0 + 5_000);
    a.fail();
    await a.stable();
    b.fail();
    await b.stable();
    await flush();
    expect(a.backgrounds).toEqual([false, false, true]);
    expect(b.backgrounds).toEqual([false, false]);
    expect(b.stable.status().nextAttemptAt).toEqual(new Date(T0 + 10_000));
  });

  it('extendedInfoOf ends at a cycle of wrappers and finds a hook however deep', async () => {
    const { stable, extended } = setup();
    await extended();
    const served = await stable();
    const INNER = Symbol.for('credchain.innerProvider');
    const loop = Object.assign(async () => served, {}) as unknown as Record<symbol, unknown>;
    loop[INNER] = loop;
    expect(extendedInfoOf(loop as never, served)).toEqual({ provider: 'p', since: new Date(T0), nextAttemptAt: new Date(T0 + 5_000) });
    expect(extendedInfoOf(loop as never, undefined)).toBeUndefined();
    let outer: unknown = exposeStability(named('deep', async () => served), stable);
    for (let i = 0; i < 40; i++) outer = Object.assign(async () => served, { [INNER]: outer });
    expect(extendedInfoOf(outer as never, undefined)?.provider).toBe('deep');
  });

  it('the hook and the mark use registered symbols, so another copy of the package recognises them', async () => {
    const { stable, extended } = setup();
    await extended();
    const provider = exposeStability(named('imds', async () => stable()), stable);
    const served = await provider();
    const hook = (provider as unknown as Record<symbol, unknown>)[Symbol.for('credchain.staticStability')] as () => { extended: boolean };
    expect(hook().extended).toBe(true);
    expect((served as unknown as Record<symbol, unknown>)[Symbol.for('credchain.extendedCredentials')]).toEqual({
      provider: 'p',
      since: new Date(T0),
      nextAttemptAt: new Date(T0 + 5_000),
    });
  });
});
