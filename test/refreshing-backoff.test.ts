import { describe, expect, it, vi } from 'vitest';
import { refreshing, type Credentials } from '../src/index.js';
import { RenewalBackoffError } from '../src/refreshing.js';
import { createFakeClock, mockProvider } from '../src/testing/index.js';

const SEC = 1000;
const MIN = 60 * SEC;
const T0 = Date.UTC(2026, 0, 1);

function creds(expiresAt?: number, id = 'AKIDEXAMPLE0001'): Credentials {
  return { accessKeyId: id, secretAccessKey: 'secret', ...(expiresAt !== undefined ? { expiration: new Date(expiresAt) } : {}) };
}

const flush = () => new Promise((r) => setImmediate(r));

/** A source the test switches between up (fresh credentials of `lifetimeMs`) and down (throws). */
function switchable(clock: { now: () => number }, lifetimeMs: number) {
  let n = 0;
  const state = { up: true };
  const inner = mockProvider(
    () => {
      if (!state.up) throw new Error('STS answered 500');
      n += 1;
      return creds(clock.now() + lifetimeMs, `AKIDSWITCH${String(n).padStart(6, '0')}`);
    },
    { now: clock.now },
  );
  return { inner, state };
}

/** A provider whose answers the test releases one at a time. */
function gated() {
  const pending: { resolve: (c: Credentials) => void; reject: (e: Error) => void }[] = [];
  const inner = mockProvider(() => new Promise<Credentials>((resolve, reject) => pending.push({ resolve, reject })));
  return { inner, pending };
}

describe('refreshing: expiry is exact', () => {
  it('a blocking renewal that starts before expiry and fails at the exact expiry instant does not fall back to the cache', async () => {
    const clock = createFakeClock(T0);
    const { inner, pending } = gated();
    const p = refreshing(inner, { now: clock.now, random: () => 0 });
    const first = p();
    await flush();
    pending.shift()!.resolve(creds(T0 + 60 * MIN));
    await first;
    clock.set(T0 + 57 * MIN); // mandatory window: the caller waits
    const during = p();
    await flush();
    clock.set(T0 + 60 * MIN); // the renewal fails exactly when the cached credentials expire
    pending.shift()!.reject(new Error('STS answered 500'));
    await expect(during).rejects.toThrow('STS answered 500');
  });

  it('a blocking renewal that fails 1 ms before expiry serves the still-valid cache', async () => {
    const clock = createFakeClock(T0);
    const { inner, pending } = gated();
    const p = refreshing(inner, { now: clock.now, random: () => 0 });
    const first = p();
    await flush();
    pending.shift()!.resolve(creds(T0 + 60 * MIN));
    const cached = await first;
    clock.set(T0 + 57 * MIN);
    const during = p();
    await flush();
    clock.set(T0 + 60 * MIN - 1);
    pending.shift()!.reject(new Error('STS answered 500'));
    expect(await during).toBe(cached);
  });

  it('after a failed renewal, a call at the exact expiry instant does not get the cached credentials', async () => {
    const clock = createFakeClock(T0);
    const { inner, state } = switchable(clock, 60 * MIN);
    const p = refreshing(inner, { now: clock.now, random: () => 0 });
    const cached = await p();
    state.up = false;
    clock.set(T0 + 55 * MIN);
    expect(await p()).toBe(cached); // blocking renewal failed, still valid: served
    expect(p.status().failures).toBe(1);
    clock.set(T0 + 60 * MIN);
    await expect(p()).rejects.toThrow('STS answered 500');
  });

  it('credentials that expire at the very instant they arrive count as a failed renewal', async () => {
    const clock = createFakeClock(T0);
    const p = refreshing(mockProvider([creds(T0)], { now: clock.now }), { now: clock.now, name: 'instant' });
    await expect(p()).rejects.toThrow(/instant returned credentials that expired/);
  });
});

describe('refreshing: invalidate() starts a clean generation', () => {
  it('a discarded renewal sets neither the new backoff nor lastError, and does not clear the newer in-flight renewal', async () => {
    const clock = createFakeClock(T0);
    const { inner, pending } = gated();
    const p = refreshing(inner, { now: clock.now });
    const old = p();
    p.invalidate();
    const fresh = p(); // the new generation's renewal
    await flush();
    expect(inner.calls).toBe(2);
    pending[0]!.reject(new Error('old generation failed'));
    await expect(old).rejects.toThrow('old generation failed');
    const status = p.status();
    expect(status.lastError).toBeUndefined();
    expect(status.failures).toBe(0);
    expect(status.nextAttemptAt).toBeUndefined();
    expect(status.renewing).toBe(true);
    const joined = p(); // joins the newer renewal instead of starting a third
    await flush();
    expect(inner.calls).toBe(2);
    pending[1]!.resolve(creds(T0 + 60 * MIN, 'AKIDNEWGENERATION'));
    expect((await fresh).accessKeyId).toBe('AKIDNEWGENERATION');
    expect((await joined).accessKeyId).toBe('AKIDNEWGENERATION');
  });

  it('a discarded renewal that succeeds does not reset the new generation’s backoff', async () => {
    const clock = createFakeClock(T0);
    const { inner, pending } = gated();
    const p = refreshing(inner, { now: clock.now, random: () => 0 });
    const old = p();
    p.invalidate();
    const fresh = p();
    await flush();
    pending[1]!.reject(new Error('new generation failed'));
    await expect(fresh).rejects.toThrow('new generation failed');
    pending[0]!.resolve(creds(T0 + 60 * MIN, 'AKIDOLDGENERATION'));
    expect((await old).accessKeyId).toBe('AKIDOLDGENERATION');
    expect(p.status()).toMatchObject({ state: 'empty', failures: 1, lastError: 'new generation failed' });
  });
});

describe('refreshing: options are validated', () => {
  it.each([
    ['jitter', 10],
    ['jitter', -0.1],
    ['jitter', Number.NaN],
    ['advisoryWindowMs', Number.POSITIVE_INFINITY],
    ['advisoryWindowMs', -1],
    ['mandatoryWindowMs', Number.POSITIVE_INFINITY],
    ['mandatoryWindowMs', Number.NaN],
    ['retryAfterFailureMs', Number.POSITIVE_INFINITY],
    ['retryAfterFailureMs', -5],
    ['maxRetryAfterFailureMs', Number.POSITIVE_INFINITY],
    ['maxRetryAfterFailureMs', -1],
    ['maxAgeMs', 0],
    ['maxAgeMs', -1],
    ['maxAgeMs', Number.POSITIVE_INFINITY],
    ['maxAgeMs', '60000'],
  ])('%s = %s is refused with a message naming the option', (key, value) => {
    expect(() => refreshing(mockProvider(creds()), { [key]: value })).toThrow(new RegExp(`option ${key} must be`));
  });

  it('accepts the bounds', () => {
    for (const options of [{ jitter: 0 }, { jitter: 1 }, { advisoryWindowMs: 0, mandatoryWindowMs: 0 }, { retryAfterFailureMs: 0 }, { maxAgeMs: 1 }]) {
      expect(() => refreshing(mockProvider(creds()), options)).not.toThrow();
    }
  });

  it('jitter: 1 keeps the renewal point a full advisory window plus 100% early, not on every call', async () => {
    const clock = createFakeClock(T0);
    const inner = mockProvider(() => creds(clock.now() + 60 * MIN), { now: clock.now });
    const p = refreshing(inner, { now: clock.now, jitter: 1, random: () => 0.999 });
    await p();
    clock.set(T0 + 29 * MIN);
    await p();
    await flush();
    expect(inner.calls).toBe(1);
  });
});

describe('refreshing: backoff', () => {
  /** Drives one call a second from `from` to `to` (fake ms) and returns when the inner provider was called. */
  async function drive(p: () => Promise<Credentials>, clock: ReturnType<typeof createFakeClock>, to: number, stepMs = SEC) {
    const outcomes: { at: number; ok: boolean }[] = [];
    while (clock.now() < to) {
      const at = clock.now();
      const ok = await p().then(
        () => true,
        () => false,
      );
      outcomes.push({ at, ok });
      await flush();
      clock.advance(stepMs);
    }
    return outcomes;
  }

  it('failed renewals back off exponentially (equal jitter), capped, and reset after a success', async () => {
    const clock = createFakeClock(T0);
    const { inner, state } = switchable(clock, 12 * 60 * MIN); // 12 h: advisory window 15-18 min
    const p = refreshing(inner, { now: clock.now, random: () => 0 }); // lower end of each step: half of it
    await p();
    state.up = false;
    clock.set(T0 + 12 * 60 * MIN - 15 * MIN); // advisory window
    await drive(p, clock, T0 + 12 * 60 * MIN - 1);
    const times = inner.callTimes.slice(1).map((t) => (t - inner.callTimes[1]!) / SEC);
    // first step 40 s -> 20 s, then 40, 80, 150 (cap 300 s -> 150 s), 150...
    expect(times.slice(0, 7)).toEqual([0, 20, 60, 140, 290, 440, 590]);
    state.up = true;
    const before = inner.calls;
    await drive(p, clock, clock.now() + 200 * SEC);
    expect(inner.calls).toBe(before + 1); // recovered at the next step; fresh credentials, no more attempts
    expect(p.status()).toMatchObject({ state: 'fresh', failures: 0 });
    expect(p.status().lastError).toBeUndefined();
  });

  it('the upper end of each step is the whole step (random close to 1)', async () => {
    const clock = createFakeClock(T0);
    const { inner, state } = switchable(clock, 12 * 60 * MIN);
    const p = refreshing(inner, { now: clock.now, random: () => 0.9999 });
    await p();
    state.up = false;
    clock.set(T0 + 12 * 60 * MIN - 19 * MIN);
    await drive(p, clock, T0 + 12 * 60 * MIN - 1);
    const gaps = inner.callTimes.slice(2).map((t, i) => (t - inner.callTimes[i + 1]!) / SEC);
    expect(gaps.slice(0, 4)).toEqual([40, 80, 160, 300]);
  });

  it('after a success the backoff starts again from the first step', async () => {
    const clock = createFakeClock(T0);
    const { inner, state } = switchable(clock, 60 * MIN);
    const p = refreshing(inner, { now: clock.now, random: () => 0 });
    await p();
    state.up = false;
    clock.set(T0 + 46 * MIN);
    await drive(p, clock, T0 + 46 * MIN + 61 * SEC); // attempts at +0, +20 s, +60 s
    expect(p.status().failures).toBe(3);
    state.up = true;
    await drive(p, clock, clock.now() + 150 * SEC);
    expect(p.status().failures).toBe(0);
    state.up = false;
    clock.set(T0 + 46 * MIN + 60 * MIN); // advisory window of the renewed credentials
    const firstFailure = inner.calls;
    await drive(p, clock, clock.now() + 25 * SEC);
    const gaps = inner.callTimes.slice(firstFailure).map((t) => t - inner.callTimes[firstFailure]!);
    expect(gaps).toEqual([0, 20 * SEC]);
  });

  it('in the mandatory window, calls during the backoff step get the cached value and start no attempt', async () => {
    const clock = createFakeClock(T0);
    const warn = vi.fn();
    const { inner, state } = switchable(clock, 60 * MIN);
    const p = refreshing(inner, { now: clock.now, random: () => 0, logger: { warn } });
    const cached = await p();
    state.up = false;
    clock.set(T0 + 55 * MIN);
    expect(await p()).toBe(cached); // the blocking renewal failed
    expect(inner.calls).toBe(2);
    for (let i = 0; i < 19; i += 1) {
      clock.advance(SEC);
      expect(await p()).toBe(cached);
      await flush();
    }
    expect(inner.calls).toBe(2);
    clock.advance(SEC); // step over: one attempt, in the background
    expect(await p()).toBe(cached);
    await flush();
    expect(inner.calls).toBe(3);
    expect(String(warn.mock.calls.at(-1)![0])).toMatch(/background renewal of mock failed \(2 in a row; next attempt in 40 s\)/);
  });

  it('once expired with a failing source: one attempt per step, callers in between fail at once with when the next attempt is due', async () => {
    const clock = createFakeClock(T0);
    const { inner, state } = switchable(clock, 60 * MIN);
    const p = refreshing(inner, { now: clock.now, random: () => 0 });
    await p();
    state.up = false;
    clock.set(T0 + 60 * MIN); // expired, no attempt yet: the caller waits for one
    await expect(p()).rejects.toThrow('STS answered 500');
    expect(inner.calls).toBe(2);
    clock.advance(5 * SEC);
    const error = await p().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RenewalBackoffError);
    expect((error as RenewalBackoffError).nextAttemptAt.getTime()).toBe(T0 + 60 * MIN + 20 * SEC);
    expect((error as Error).message).toMatch(/expired at 2026-01-01T01:00:00.000Z .* failed 1 time\(s\) in a row, the last 5 s ago; next attempt due at 2026-01-01T01:00:20.000Z: STS answered 500/);
    expect((error as Error).cause).toBeInstanceOf(Error);
    expect(inner.calls).toBe(2);
    clock.advance(15 * SEC); // step due: this caller waits for the attempt
    await expect(p()).rejects.toThrow('STS answered 500');
    expect(inner.calls).toBe(3);
  });

  it('callers arriving while a backoff-step attempt runs on expired credentials fail at once; the caller that started it waits', async () => {
    const clock = createFakeClock(T0);
    let n = 0;
    const pending: { resolve: (c: Credentials) => void; reject: (e: Error) => void }[] = [];
    const inner = mockProvider(() => {
      n += 1;
      if (n === 1) return creds(T0 + 60 * MIN);
      return new Promise<Credentials>((resolve, reject) => pending.push({ resolve, reject }));
    });
    const p = refreshing(inner, { now: clock.now, random: () => 0 });
    await p();
    clock.set(T0 + 60 * MIN);
    const expiryAttempt = p();
    const waitsToo = p(); // the first attempt since expiry: everyone waits, the source may be back
    await flush();
    pending.shift()!.reject(new Error('STS answered 500'));
    await expect(expiryAttempt).rejects.toThrow('STS answered 500');
    await expect(waitsToo).rejects.toThrow('STS answered 500');
    clock.advance(20 * SEC);
    const trigger = p();
    await expect(p()).rejects.toBeInstanceOf(RenewalBackoffError); // at once, while the attempt runs
    expect(inner.calls).toBe(3);
    await flush();
    pending.shift()!.resolve(creds(clock.now() + 60 * MIN, 'AKIDRECOVERED'));
    expect((await trigger).accessKeyId).toBe('AKIDRECOVERED');
    expect((await p()).accessKeyId).toBe('AKIDRECOVERED');
  });

  it('a not-found error keeps its class between attempts, so a chain around the cache still moves on', async () => {
    const clock = createFakeClock(T0);
    const { CredentialsNotFound } = await import('../src/index.js');
    const gone = new CredentialsNotFound('token file is gone', { providerName: 'token-file' });
    const p = refreshing(mockProvider([creds(T0 + 60 * MIN), gone], { now: clock.now }), { now: clock.now, random: () => 0 });
    await p();
    clock.set(T0 + 61 * MIN);
    await expect(p()).rejects.toBe(gone);
    clock.advance(SEC);
    await expect(p()).rejects.toBe(gone);
  });
});

describe('refreshing: maxAgeMs (issue 12)', () => {
  it('re-fetches credentials without expiration after maxAgeMs; the first caller after it waits', async () => {
    const clock = createFakeClock(T0);
    let n = 0;
    const inner = mockProvider(() => creds(undefined, `AKIDROTATED${++n}`), { now: clock.now });
    const p = refreshing(inner, { now: clock.now, maxAgeMs: 10 * MIN });
    expect((await p()).accessKeyId).toBe('AKIDROTATED1');
    clock.advance(10 * MIN - 1);
    expect((await p()).accessKeyId).toBe('AKIDROTATED1');
    await flush();
    expect(inner.calls).toBe(1);
    clock.advance(1);
    expect((await p()).accessKeyId).toBe('AKIDROTATED2');
    expect(inner.calls).toBe(2);
  });

  it('keeps serving them when the re-fetch fails (they carry no expiration), backing off', async () => {
    const clock = createFakeClock(T0);
    const warn = vi.fn();
    const inner = mockProvider([creds(undefined, 'AKIDSTATIC'), new Error('file unreadable')], { now: clock.now });
    const p = refreshing(inner, { now: clock.now, maxAgeMs: 10 * MIN, random: () => 0, logger: { warn } });
    await p();
    clock.advance(10 * MIN);
    expect((await p()).accessKeyId).toBe('AKIDSTATIC');
    expect(warn).toHaveBeenCalledTimes(1);
    clock.advance(10 * SEC);
    expect((await p()).accessKeyId).toBe('AKIDSTATIC');
    await flush();
    expect(inner.calls).toBe(2); // inside the 20 s step
  });

  it('is off by default: credentials without expiration are kept', async () => {
    const clock = createFakeClock(T0);
    const inner = mockProvider(creds(), { now: clock.now });
    const p = refreshing(inner, { now: clock.now });
    await p();
    clock.advance(1000 * 24 * 60 * MIN);
    await p();
    expect(inner.calls).toBe(1);
  });

  it('does not touch credentials that carry an expiration', async () => {
    const clock = createFakeClock(T0);
    const inner = mockProvider(() => creds(clock.now() + 60 * MIN), { now: clock.now });
    const p = refreshing(inner, { now: clock.now, maxAgeMs: MIN, random: () => 0 });
    await p();
    clock.advance(30 * MIN);
    await p();
    await flush();
    expect(inner.calls).toBe(1);
  });
});
