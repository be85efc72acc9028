import { describe, expect, it } from 'vitest';
import { CredentialsError, CredentialsNotFound } from '../../src/errors.js';
import { REFRESH_DEFAULTS, RenewalBackoffError, SERVED_ATTEMPTS, refreshing, renewalWindow } from '../../src/refreshing.js';
import { chain } from '../../src/chain.js';
import { named } from '../../src/provider.js';
import { INNER_PROVIDER } from '../../src/trace.js';
import { createFakeClock } from '../../src/testing/fake-clock.js';
import type { Credentials } from '../../src/credentials.js';

// Tests added from the surviving mutants of `npm run mutate` (bench/MUTATION.md).
const MIN = 60_000;
const T0 = Date.UTC(2030, 0, 1);
const iso = (ms: number) => new Date(ms).toISOString();

/** A provider that does what it is told, one step per call. */
function scripted(name = 'src') {
  const steps: Array<() => Promise<Credentials>> = [];
  let calls = 0;
  const provider = named(name, async () => {
    calls += 1;
    const step = steps.shift();
    if (!step) throw new Error('no step');
    return step();
  });
  return {
    provider,
    calls: () => calls,
    ok: (expiration?: number, key = 'AKIDOK') =>
      steps.push(async () => ({ accessKeyId: key, secretAccessKey: 's', ...(expiration !== undefined ? { expiration: new Date(expiration) } : {}) })),
    fail: (error: unknown = new Error('boom')) => steps.push(async () => Promise.reject(error)),
    pending: () => {
      let resolve!: (c: Credentials) => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<Credentials>((res, rej) => ((resolve = res), (reject = rej)));
      steps.push(() => promise);
      return { resolve, reject };
    },
  };
}
const flush = () => new Promise((r) => setTimeout(r, 0));

describe('refreshing (mutation)', () => {
  it('defaults', () => {
    expect(REFRESH_DEFAULTS).toEqual({ advisoryWindowMs: 15 * MIN, mandatoryWindowMs: 10 * MIN, jitter: 0.2, retryAfterFailureMs: 40_000, maxRetryAfterFailureMs: 5 * MIN });
  });

  it('renewalWindow: a quarter / a tenth of the lifetime, capped, the advisory one moved earlier by the jitter', () => {
    const exp = T0 + 60 * MIN;
    expect(renewalWindow(T0, exp, {}, 0)).toEqual({ refreshAt: exp - 15 * MIN, mandatoryAt: exp - 6 * MIN });
    expect(renewalWindow(T0, exp, {}, 1)).toEqual({ refreshAt: exp - 18 * MIN, mandatoryAt: exp - 6 * MIN });
    expect(renewalWindow(T0, exp, {}, 0.5)).toEqual({ refreshAt: exp - 16.5 * MIN, mandatoryAt: exp - 6 * MIN });
    const long = T0 + 600 * MIN;
    expect(renewalWindow(T0, long, {}, 0)).toEqual({ refreshAt: long - 15 * MIN, mandatoryAt: long - 10 * MIN });
    const short = T0 + 20 * MIN;
    expect(renewalWindow(T0, short, {}, 1)).toEqual({ refreshAt: short - 6 * MIN, mandatoryAt: short - 2 * MIN });
    expect(renewalWindow(T0, exp, { advisoryWindowMs: 4 * MIN, mandatoryWindowMs: 2 * MIN, jitter: 0.5 }, 1)).toEqual({
      refreshAt: exp - 6 * MIN,
      mandatoryAt: exp - 2 * MIN,
    });
    // A narrower advisory window does not hide the mandatory one.
    expect(renewalWindow(T0, exp, { advisoryWindowMs: 0 }, 1)).toEqual({ refreshAt: exp - 6 * MIN, mandatoryAt: exp - 6 * MIN });
  });

  it('checks its options, naming the option, the range and the provider', () => {
    const p = named('thing', async () => ({ accessKeyId: 'a', secretAccessKey: 'b' }));
    const message = (o: Parameters<typeof refreshing>[1]) => {
      try {
        refreshing(p, o);
      } catch (e) {
        expect(e).toBeInstanceOf(CredentialsError);
        expect((e as CredentialsError).providerName).toBe(o?.name ?? 'thing');
        return (e as Error).message;
      }
      return 'ok';
    };
    for (const key of ['advisoryWindowMs', 'mandatoryWindowMs', 'retryAfterFailureMs', 'maxRetryAfterFailureMs'] as const) {
      expect(message({ [key]: -1 })).toBe(`refreshing(): option ${key} must be a finite number >= 0 (got -1)`);
      expect(message({ [key]: Infinity })).toBe(`refreshing(): option ${key} must be a finite number >= 0 (got Infinity)`);
      expect(message({ [key]: '5' as unknown as number })).toBe(`refreshing(): option ${key} must be a finite number >= 0 (got 5)`);
      expect(message({ [key]: 0 })).toBe('ok');
    }
    expect(message({ jitter: 1.01 })).toBe('refreshing(): option jitter must be a number in [0, 1] (got 1.01)');
    expect(message({ jitter: -0.1 })).toBe('refreshing(): option jitter must be a number in [0, 1] (got -0.1)');
    expect(message({ jitter: 1 })).toBe('ok');
    expect(message({ jitter: 0 })).toBe('ok');
    expect(message({ maxAgeMs: 0 })).toBe('refreshing(): option maxAgeMs must be a finite number > 0 (got 0)');
    expect(message({ maxAgeMs: 1 })).toBe('ok');
    expect(message({ name: 'other', jitter: 2 })).toBe('refreshing(): option jitter must be a number in [0, 1] (got 2)');
  });

  it('a failing source: warnings with the count and the backoff, then RenewalBackoffError, then recovery', async () => {
    const clock = createFakeClock(T0);
    const warnings: string[] = [];
    const src = scripted('src');
    const exp = T0 + 60 * MIN;
    src.ok(exp, 'AKIDFIRST');
    const cache = refreshing(src.provider, { now: clock.now, random: () => 0, logger: { warn: (m: string) => warnings.push(m) } });
    expect(cache.status()).toEqual({ state: 'empty', renewing: false, failures: 0 });
    expect((await cache()).accessKeyId).toBe('AKIDFIRST');
    expect(cache.status()).toEqual({ state: 'fresh', expiration: new Date(exp), refreshAt: exp - 15 * MIN, renewing: false, failures: 0 });

    // Advisory window: cached value at once, renewal in the background, which fails.
    clock.set(exp - 14 * MIN);
    src.fail();
    expect((await cache()).accessKeyId).toBe('AKIDFIRST');
    expect(cache.status().renewing).toBe(true);
    await flush();
    expect(warnings).toEqual([
      'credchain: background renewal of src failed (1 in a row; next attempt in 20 s); serving cached credentials until they expire: boom',
    ]);
    expect(cache.status()).toEqual({
      state: 'advisory',
      expiration: new Date(exp),
      refreshAt: exp - 15 * MIN,
      renewing: false,
      failures: 1,
      lastError: 'boom',
      nextAttemptAt: exp - 14 * MIN + 20_000,
    });
    // Within the backoff step: no new attempt.
    clock.advance(19_999);
    await cache();
    expect(src.calls()).toBe(2);

    // Mandatory window after a failure: still served at once, renewal in the background.
    clock.set(exp - 5 * MIN);
    src.fail();
    expect((await cache()).accessKeyId).toBe('AKIDFIRST');
    await flush();
    expect(src.calls()).toBe(3);
    expect(warnings[1]).toBe(
      'credchain: background renewal of src failed (2 in a row; next attempt in 40 s); serving cached credentials until they expire: boom',
    );
    expect(cache.status().state).toBe('mandatory');

    // At expiry the first caller waits for an attempt, which fails.
    clock.set(exp);
    src.fail();
    await expect(cache()).rejects.toThrow('boom');
    expect(cache.status()).toMatchObject({ state: 'expired', failures: 3, nextAttemptAt: exp + 80_000 });

    // The source is failing: callers get the last error at once until the next step.
    clock.advance(1000);
    const error = (await cache().catch((e: unknown) => e)) as RenewalBackoffError;
    expect(error).toBeInstanceOf(RenewalBackoffError);
    expect(error.name).toBe('RenewalBackoffError');
    expect(error.providerName).toBe('src');
    expect((error.cause as Error).message).toBe('boom');
    expect(error.nextAttemptAt).toEqual(new Date(exp + 80_000));
    expect(error.expiredAt).toEqual(new Date(exp));
    expect(error.message).toBe(
      `src: credentials expired at ${iso(exp)} and renewing them failed 3 time(s) in a row, the last 1 s ago; next attempt due at ${iso(exp + 80_000)}: boom`,
    );
    expect(src.calls()).toBe(4);

    // Once the step has passed, one caller's attempt runs; others meanwhile hear it is running.
    clock.set(exp + 80_000);
    const attempt = src.pending();
    const waiting = cache();
    const other = (await cache().catch((e: unknown) => e)) as Error;
    expect(other.message).toBe(
      `src: credentials expired at ${iso(exp)} and renewing them failed 3 time(s) in a row, the last 80 s ago; next attempt now running: boom`,
    );
    attempt.resolve({ accessKeyId: 'AKIDSECOND', secretAccessKey: 's', expiration: new Date(exp + 80_000 + 60 * MIN) });
    expect((await waiting).accessKeyId).toBe('AKIDSECOND');
    expect(cache.status()).toEqual({
      state: 'fresh',
      expiration: new Date(exp + 80_000 + 60 * MIN),
      refreshAt: exp + 80_000 + 45 * MIN,
      renewing: false,
      failures: 0,
    });
  });

  it('backoff steps double up to the cap, with equal jitter', async () => {
    const clock = createFakeClock(T0);
    const warnings: string[] = [];
    const src = scripted();
    src.ok(T0 + 600 * MIN);
    let draw = 1;
    const cache = refreshing(src.provider, {
      now: clock.now,
      random: () => draw,
      retryAfterFailureMs: 10_000,
      maxRetryAfterFailureMs: 30_000,
      logger: { warn: (m: string) => warnings.push(m) },
    });
    await cache();
    draw = 0.5;
    clock.set(T0 + 583 * MIN);
    for (let i = 0; i < 4; i += 1) {
      src.fail();
      await cache();
      await flush();
      clock.advance(60_000);
    }
    expect(warnings.map((w) => /next attempt in (\d+) s/.exec(w)![1])).toEqual(['8', '15', '23', '23']);
  });

  it('mandatory window: the caller waits; a failed renewal serves still-valid credentials with a warning', async () => {
    const clock = createFakeClock(T0);
    const warnings: string[] = [];
    const src = scripted('m');
    const exp = T0 + 60 * MIN;
    src.ok(exp, 'AKIDFIRST');
    const cache = refreshing(src.provider, { now: clock.now, random: () => 0, logger: { warn: (m: string) => warnings.push(m) } });
    await cache();
    clock.set(exp - 6 * MIN);
    src.fail();
    expect((await cache()).accessKeyId).toBe('AKIDFIRST');
    expect(warnings).toEqual([`credchain: renewal of m failed; serving credentials that expire at ${iso(exp)}: boom`]);
    // Mandatory, with a renewal that succeeds: the caller gets the new credentials.
    const fresh = createFakeClock(T0);
    const src2 = scripted('n');
    src2.ok(exp, 'AKIDOLD');
    src2.ok(exp + 60 * MIN, 'AKIDNEW');
    const cache2 = refreshing(src2.provider, { now: fresh.now, random: () => 0 });
    await cache2();
    fresh.set(exp - 6 * MIN);
    expect((await cache2()).accessKeyId).toBe('AKIDNEW');
    // Just before the mandatory window it is still the old one, with a renewal behind.
    const c3 = createFakeClock(T0);
    const src3 = scripted('o');
    src3.ok(exp, 'AKIDOLD');
    const p3 = src3.pending();
    const cache3 = refreshing(src3.provider, { now: c3.now, random: () => 0 });
    await cache3();
    c3.set(exp - 6 * MIN - 1);
    expect((await cache3()).accessKeyId).toBe('AKIDOLD');
    expect(cache3.status().renewing).toBe(true);
    p3.resolve({ accessKeyId: 'AKIDNEW', secretAccessKey: 's', expiration: new Date(exp + 60 * MIN) });
    await flush();
    expect((await cache3()).accessKeyId).toBe('AKIDNEW');
  });

  it('a renewal that fails after expiry in the mandatory wait throws, not the stale credentials', async () => {
    const clock = createFakeClock(T0);
    const src = scripted();
    const exp = T0 + 60 * MIN;
    src.ok(exp);
    const cache = refreshing(src.provider, { now: clock.now, random: () => 0 });
    await cache();
    clock.set(exp - MIN);
    const pending = src.pending();
    const call = cache();
    clock.set(exp);
    pending.reject(new Error('late'));
    await expect(call).rejects.toThrow('late');
  });

  it('maxAgeMs: credentials without expiration are re-fetched; a failed re-fetch serves them ("never")', async () => {
    const clock = createFakeClock(T0);
    const warnings: string[] = [];
    const src = scripted('age');
    src.ok(undefined, 'AKIDONE');
    const cache = refreshing(src.provider, { now: clock.now, maxAgeMs: 1000, logger: { warn: (m: string) => warnings.push(m) } });
    await cache();
    expect(cache.status()).toEqual({ state: 'fresh', renewing: false, failures: 0 });
    clock.advance(999);
    await cache();
    expect(src.calls()).toBe(1);
    clock.advance(1);
    expect(cache.status().state).toBe('mandatory');
    src.fail();
    expect((await cache()).accessKeyId).toBe('AKIDONE');
    expect(warnings).toEqual(['credchain: renewal of age failed; serving credentials that expire never: boom']);
    // Without maxAgeMs they are kept for good.
    const src2 = scripted();
    src2.ok();
    const kept = refreshing(src2.provider, { now: clock.now });
    await kept();
    clock.advance(1e12);
    await kept();
    expect(src2.calls()).toBe(1);
    expect(kept.status().state).toBe('fresh');
  });

  it('refuses credentials that arrive expired, naming the provider and the time', async () => {
    const clock = createFakeClock(T0);
    const src = scripted('late');
    src.ok(T0);
    const cache = refreshing(src.provider, { now: clock.now });
    const error = (await cache().catch((e: unknown) => e)) as CredentialsError;
    expect(error.message).toBe(`late returned credentials that expired at ${iso(T0)}; refusing to use them`);
    expect(error.providerName).toBe('late');
  });

  it('a "not found" from the source keeps its meaning after expiry', async () => {
    const clock = createFakeClock(T0);
    const src = scripted();
    const exp = T0 + 60 * MIN;
    src.ok(exp);
    const notFound = new CredentialsNotFound('gone');
    const cache = refreshing(src.provider, { now: clock.now, random: () => 0 });
    await cache();
    clock.set(exp);
    src.fail(notFound);
    await expect(cache()).rejects.toBe(notFound);
    clock.advance(1);
    await expect(cache()).rejects.toBe(notFound);
  });

  it('invalidate() forgets the entry and the backoff; an older attempt changes nothing when it settles', async () => {
    const clock = createFakeClock(T0);
    const src = scripted();
    const exp = T0 + 60 * MIN;
    src.ok(exp, 'AKIDA');
    const cache = refreshing(src.provider, { now: clock.now, random: () => 0 });
    await cache();
    clock.set(exp - 14 * MIN);
    src.fail();
    await cache();
    await flush();
    expect(cache.status().failures).toBe(1);
    cache.invalidate();
    expect(cache.status()).toEqual({ state: 'empty', renewing: false, failures: 0 });
    const old = src.pending();
    const first = cache();
    cache.invalidate();
    src.ok(exp + 60 * MIN, 'AKIDB');
    const second = cache();
    old.reject(new Error('old'));
    await expect(first).rejects.toThrow('old');
    expect((await second).accessKeyId).toBe('AKIDB');
    expect(cache.status()).toMatchObject({ state: 'fresh', failures: 0, renewing: false });
    expect(cache.status().lastError).toBeUndefined();
  });

  it('keeps the inner provider and the served attempts behind non-enumerable symbols', async () => {
    const inner = chain(named('a', async () => ({ accessKeyId: 'AKIDX', secretAccessKey: 's' })));
    const cache = refreshing(inner);
    expect(Object.getOwnPropertyDescriptor(cache, INNER_PROVIDER)).toMatchObject({ value: inner, enumerable: false });
    expect(Object.getOwnPropertyDescriptor(cache, SERVED_ATTEMPTS)?.enumerable).toBe(false);
    const served = (cache as unknown as Record<symbol, () => unknown>)[SERVED_ATTEMPTS]!;
    expect(served()).toBeUndefined();
    await cache();
    expect(served()).toEqual([{ provider: 'a', outcome: 'resolved' }]);
  });

  it('custom windows and jitter are used, not the defaults', async () => {
    const clock = createFakeClock(T0);
    const src = scripted();
    const exp = T0 + 600 * MIN;
    src.ok(exp);
    const cache = refreshing(src.provider, { now: clock.now, random: () => 1, advisoryWindowMs: 2 * MIN, mandatoryWindowMs: MIN, jitter: 0.5 });
    await cache();
    // Advisory 2 min × (1 + 0.5 × 1) = 3 min; mandatory 1 min.
    expect(cache.status().refreshAt).toBe(exp - 3 * MIN);
    clock.set(exp - 3 * MIN - 1);
    expect(cache.status().state).toBe('fresh');
    // The exact renewal instant is already the advisory window, as a call then renews.
    clock.set(exp - 3 * MIN);
    expect(cache.status().state).toBe('advisory');
    clock.set(exp - MIN - 1);
    expect(cache.status().state).toBe('advisory');
    clock.set(exp - MIN);
    expect(cache.status().state).toBe('mandatory');
    clock.set(exp);
    expect(cache.status().state).toBe('expired');
  });

  it('callers arriving together at expiry all wait for the one renewal', async () => {
    const clock = createFakeClock(T0);
    const src = scripted();
    const exp = T0 + 60 * MIN;
    src.ok(exp, 'AKIDOLD');
    const cache = refreshing(src.provider, { now: clock.now, random: () => 0 });
    await cache();
    clock.set(exp);
    const renewal = src.pending();
    const a = cache();
    const b = cache();
    renewal.resolve({ accessKeyId: 'AKIDNEW', secretAccessKey: 's', expiration: new Date(exp + 60 * MIN) });
    expect((await a).accessKeyId).toBe('AKIDNEW');
    expect((await b).accessKeyId).toBe('AKIDNEW');
    expect(src.calls()).toBe(2);
  });
});

