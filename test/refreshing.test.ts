import { describe, expect, it, vi } from 'vitest';
import { refreshing, CredentialsError, type Credentials } from '../src/index.js';
import { createFakeClock, mockProvider } from '../src/testing/index.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1);

function creds(expiresAt?: number, id = 'AKIDEXAMPLE0001'): Credentials {
  return { accessKeyId: id, secretAccessKey: 'secret', ...(expiresAt !== undefined ? { expiration: new Date(expiresAt) } : {}) };
}

/** A provider whose every answer lives `lifetimeMs` from the moment it is asked. */
function issuing(clock: { now: () => number }, lifetimeMs: number) {
  let n = 0;
  return mockProvider(() => creds(clock.now() + lifetimeMs, `AKID${String(++n).padStart(8, '0')}`), { now: clock.now });
}

const flush = () => new Promise((r) => setImmediate(r));

describe('refreshing', () => {
  it('caches credentials without expiration until invalidate()', async () => {
    const clock = createFakeClock(T0);
    const inner = mockProvider(creds());
    const p = refreshing(inner, { now: clock.now });
    await p();
    clock.advance(365 * 24 * 60 * MIN);
    await p();
    expect(inner.calls).toBe(1);
    p.invalidate();
    await p();
    expect(inner.calls).toBe(2);
    expect(inner.invalidations).toBe(1);
  });

  it('serves the cached value before the advisory window without calling the provider', async () => {
    const clock = createFakeClock(T0);
    const inner = issuing(clock, 60 * MIN);
    const p = refreshing(inner, { now: clock.now, random: () => 0 });
    const first = await p();
    clock.advance(44 * MIN); // advisory window of a 1 h credential starts 15 min before expiry
    expect(await p()).toBe(first);
    expect(inner.calls).toBe(1);
    expect(p.status().state).toBe('fresh');
  });

  it('in the advisory window returns the cached value at once and renews once in the background', async () => {
    const clock = createFakeClock(T0);
    const inner = issuing(clock, 60 * MIN);
    const p = refreshing(inner, { now: clock.now, random: () => 0 });
    const first = await p();
    clock.advance(46 * MIN);
    const results = await Promise.all([p(), p(), p()]);
    expect(results.every((r) => r === first)).toBe(true);
    await flush();
    expect(inner.calls).toBe(2);
    const renewed = await p();
    expect(renewed).not.toBe(first);
    expect(renewed.expiration!.getTime()).toBe(T0 + 46 * MIN + 60 * MIN);
  });

  it('reports a failed background renewal through the logger and keeps serving; retries later', async () => {
    const clock = createFakeClock(T0);
    const warn = vi.fn();
    const inner = mockProvider([creds(T0 + 60 * MIN), new Error('STS is down'), creds(T0 + 120 * MIN, 'AKIDNEWNEWNEW')], {
      now: clock.now,
    });
    const p = refreshing(inner, { now: clock.now, random: () => 0, logger: { warn }, retryAfterFailureMs: 30_000 });
    const first = await p();
    clock.advance(46 * MIN);
    expect(await p()).toBe(first);
    await flush();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toContain('STS is down');
    expect(p.status().lastError).toBe('STS is down');
    // within the retry back-off: no new attempt
    clock.advance(10_000);
    expect(await p()).toBe(first);
    await flush();
    expect(inner.calls).toBe(2);
    clock.advance(30_000);
    expect(await p()).toBe(first);
    await flush();
    expect(inner.calls).toBe(3);
    expect((await p()).accessKeyId).toBe('AKIDNEWNEWNEW');
  });

  it('in the mandatory window makes callers wait for the renewal', async () => {
    const clock = createFakeClock(T0);
    const inner = issuing(clock, 60 * MIN);
    const p = refreshing(inner, { now: clock.now, random: () => 0 });
    const first = await p();
    clock.advance(55 * MIN); // mandatory window of a 1 h credential: the last 6 minutes
    const second = await p();
    expect(second).not.toBe(first);
    expect(inner.calls).toBe(2);
  });

  it('serves still-valid credentials when a blocking renewal fails, and throws once they expired', async () => {
    const clock = createFakeClock(T0);
    const warn = vi.fn();
    const denied = new CredentialsError('AccessDenied', { providerName: 'mock' });
    const inner = mockProvider([creds(T0 + 60 * MIN), denied], { now: clock.now });
    const p = refreshing(inner, { now: clock.now, random: () => 0, logger: { warn } });
    const first = await p();
    clock.advance(58 * MIN);
    expect(await p()).toBe(first);
    expect(warn).toHaveBeenCalled();
    clock.advance(2 * MIN); // now exactly at expiry
    await expect(p()).rejects.toBe(denied);
    clock.advance(MIN);
    await expect(p()).rejects.toBe(denied);
  });

  it('treats credentials that are already expired as a failed renewal and never returns them', async () => {
    const clock = createFakeClock(T0);
    const inner = mockProvider([creds(T0 - 1)], { now: clock.now });
    const p = refreshing(inner, { now: clock.now, name: 'stale-source' });
    await expect(p()).rejects.toThrow(/stale-source returned credentials that expired/);

    const inner2 = mockProvider([creds(T0 + 60 * MIN), creds(T0 + 10 * MIN)], { now: clock.now });
    const p2 = refreshing(inner2, { now: clock.now, random: () => 0 });
    const first = await p2();
    clock.advance(59 * MIN);
    expect(await p2()).toBe(first); // renewal handed back expired ones: keep serving the valid cache
    clock.advance(MIN);
    await expect(p2()).rejects.toThrow(/expired/);
  });

  it('makes exactly one inner call for 10,000 concurrent callers on a cold cache and at expiry', async () => {
    const clock = createFakeClock(T0);
    const inner = mockProvider(() => creds(clock.now() + 60 * MIN), { delayMs: 5 });
    const p = refreshing(inner, { now: clock.now });
    const cold = await Promise.all(Array.from({ length: 10_000 }, () => p()));
    expect(inner.calls).toBe(1);
    expect(new Set(cold).size).toBe(1);
    clock.advance(61 * MIN);
    const renewed = await Promise.all(Array.from({ length: 10_000 }, () => p()));
    expect(inner.calls).toBe(2);
    expect(new Set(renewed).size).toBe(1);
    expect(renewed[0]!.expiration!.getTime()).toBeGreaterThan(clock.now());
  });

  it('adapts the windows to the lifetime: a 15-minute session is renewed about once per lifetime', async () => {
    const clock = createFakeClock(T0);
    const inner = issuing(clock, 15 * MIN);
    const p = refreshing(inner, { now: clock.now });
    for (let t = 0; t < 150 * MIN; t += 1000) {
      const c = await p();
      expect(c.expiration!.getTime()).toBeGreaterThan(clock.now());
      await flush();
      clock.advance(1000);
    }
    // 150 minutes of 15-minute sessions renewed ~4 minutes early: about 13 renewals, never one per call.
    expect(inner.calls).toBeGreaterThanOrEqual(10);
    expect(inner.calls).toBeLessThanOrEqual(14);
  });

  it('puts the renewal point within the jitter bounds', async () => {
    for (const r of [0, 0.5, 0.999]) {
      const clock = createFakeClock(T0);
      const p = refreshing(issuing(clock, 60 * MIN), { now: clock.now, random: () => r });
      await p();
      const refreshAt = p.status().refreshAt!;
      const advisory = 15 * MIN;
      expect(refreshAt).toBeLessThanOrEqual(T0 + 60 * MIN - advisory);
      expect(refreshAt).toBeGreaterThanOrEqual(T0 + 60 * MIN - advisory * 1.2);
      expect(refreshAt).toBeCloseTo(T0 + 60 * MIN - advisory * (1 + 0.2 * r), -1);
    }
  });

  it('invalidate() during a renewal discards its result', async () => {
    const clock = createFakeClock(T0);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let n = 0;
    const inner = mockProvider(async () => {
      n += 1;
      if (n === 1) await gate;
      return creds(T0 + 60 * MIN, `AKIDGEN${n}`);
    });
    const p = refreshing(inner, { now: clock.now });
    const pending = p();
    p.invalidate();
    release();
    expect((await pending).accessKeyId).toBe('AKIDGEN1');
    expect((await p()).accessKeyId).toBe('AKIDGEN2');
  });

  it('recovers from a provider that throws synchronously', async () => {
    let n = 0;
    const inner = (() => {
      n += 1;
      if (n === 1) throw new Error('sync boom');
      return Promise.resolve(creds());
    }) as () => Promise<Credentials>;
    const p = refreshing(inner);
    await expect(p()).rejects.toThrow('sync boom');
    expect((await p()).accessKeyId).toBe('AKIDEXAMPLE0001');
  });

  it('with the system clock never returns expired credentials to a caller that never yields to the event loop (issue repro)', async () => {
    // 1-second credentials; the caller awaits settled promises only, busy-waiting 5 ms between calls,
    // so no macrotask (setImmediate, timers) runs for 1.5 s. Before the fix: 96 expired returns, 1 inner call.
    const inner = mockProvider(() => creds(Date.now() + 1000));
    const p = refreshing(inner);
    let expiredReturns = 0;
    let calls = 0;
    const start = Date.now();
    while (Date.now() - start < 1500) {
      const c = await p();
      calls += 1;
      if (c.expiration!.getTime() <= Date.now()) expiredReturns += 1;
      const until = Date.now() + 5;
      while (Date.now() < until) {
        // busy-wait: time passes, the event loop does not turn
      }
    }
    expect(calls).toBeGreaterThan(100);
    expect(expiredReturns).toBe(0);
    expect(inner.calls).toBeGreaterThanOrEqual(2);
  });

  it('rejects invalid options with a message naming the option', () => {
    expect(() => refreshing(mockProvider(creds()), { jitter: -1 })).toThrow(/jitter/);
  });
});
