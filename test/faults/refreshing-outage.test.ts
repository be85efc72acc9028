import { describe, expect, it } from 'vitest';
import { makeCredentials, type Credentials } from '../../src/credentials.js';
import { refreshing } from '../../src/refreshing.js';
import { createFakeClock } from '../../src/testing/fake-clock.js';
import { mockProvider } from '../../src/testing/mock-provider.js';

/**
 * Outages of the source behind `refreshing`, on the fake clock: one call every `callEveryMs` (each
 * awaited), the source failing during [outageStart, outageEnd). Measured before the fix with 60 s
 * credentials and a 30 s outage from inside the renewal window: 13 failed calls, 16 s of blocked
 * calls and 52 STS requests in a minute (each renewal made 4 with the STS client's retries).
 */

const SEC = 1000;
const T0 = Date.UTC(2026, 0, 1);
const flush = () => new Promise((r) => setImmediate(r));

interface Run {
  failedCalls: number;
  expiredReturns: number;
  /** Attempts (inner calls) made while the source was failing. */
  attemptsWhileFailing: number[];
  /** Calls that started an attempt and waited for it, after the first failed call. */
  blockedAfterFirstFailure: number;
  /** First call after the outage that got credentials from after the outage. */
  freshAt?: number;
  attemptTimes: readonly number[];
}

async function simulate(o: {
  lifetimeMs: number;
  outageStart: number;
  outageEnd: number;
  untilMs: number;
  callEveryMs?: number;
  random?: () => number;
}): Promise<Run> {
  const clock = createFakeClock(T0);
  const down = (t: number) => t >= T0 + o.outageStart && t < T0 + o.outageEnd;
  let issued = 0;
  const inner = mockProvider(
    () => {
      if (down(clock.now())) throw new Error('STS answered 500 InternalFailure');
      issued += 1;
      return makeCredentials({ accessKeyId: `AKIDOUTAGE${String(issued).padStart(6, '0')}`, secretAccessKey: 's', expiration: new Date(clock.now() + o.lifetimeMs) });
    },
    { now: clock.now },
  );
  const p = refreshing(inner, { now: clock.now, random: o.random ?? Math.random });
  const run: Run = { failedCalls: 0, expiredReturns: 0, attemptsWhileFailing: [], blockedAfterFirstFailure: 0, attemptTimes: inner.callTimes };
  for (let t = 0; t < o.untilMs; t += o.callEveryMs ?? SEC) {
    clock.set(T0 + t);
    const before = inner.calls;
    let got: Credentials | undefined;
    try {
      got = await p();
    } catch {
      run.failedCalls += 1;
    }
    // An attempt made inside this call that the call waited for (background ones start later).
    if (inner.calls > before && run.failedCalls > 0 && got === undefined) run.blockedAfterFirstFailure += 1;
    if (got && got.expiration!.getTime() <= clock.now()) run.expiredReturns += 1;
    if (got && run.freshAt === undefined && t >= o.outageEnd && got.expiration!.getTime() - o.lifetimeMs >= T0 + o.outageEnd) run.freshAt = t;
    await flush();
  }
  run.attemptsWhileFailing = inner.callTimes.filter((t) => down(t)).map((t) => t - T0);
  return run;
}

/** The most attempts inside any window of `windowMs` (attempt times in ms). */
function worstWindow(times: readonly number[], windowMs: number): number {
  let worst = 0;
  for (let i = 0; i < times.length; i += 1) {
    let n = 0;
    for (let j = i; j < times.length && times[j]! < times[i]! + windowMs; j += 1) n += 1;
    worst = Math.max(worst, n);
  }
  return worst;
}

describe('refreshing under a failing source (fake clock)', () => {
  it('an outage shorter than the time left on the cached credentials fails no call, whatever its phase', async () => {
    const lifetimeMs = 60 * SEC; // obtained at 0, expire at 60 s; advisory window from 42-45 s, mandatory from 54 s
    for (let start = 250; start < 60 * SEC; start += 1500) {
      const left = lifetimeMs - start;
      for (const length of [left - 1, left / 2, Math.min(left - 1, 5 * SEC)]) {
        for (const random of [() => 0, () => 0.5, () => 0.9999]) {
          const run = await simulate({ lifetimeMs, outageStart: start, outageEnd: start + length, untilMs: 150 * SEC, callEveryMs: 500, random });
          expect({ start, length, failed: run.failedCalls, expired: run.expiredReturns }).toEqual({ start, length, failed: 0, expired: 0 });
        }
      }
    }
  });

  it('the issue scenario: 60 s credentials, a 30 s outage from inside the renewal window', async () => {
    for (const outageStart of [42 * SEC, 45 * SEC, 50 * SEC, 54 * SEC, 58 * SEC, 59.5 * SEC]) {
      for (const random of [() => 0, () => 0.5, () => 0.9999, Math.random]) {
        const outageEnd = outageStart + 30 * SEC;
        const run = await simulate({ lifetimeMs: 60 * SEC, outageStart, outageEnd, untilMs: 240 * SEC, callEveryMs: 100, random });
        // At most 3 attempts in any minute: 12 STS requests with the STS client's 3 retries each.
        expect(worstWindow(run.attemptTimes, 60 * SEC)).toBeLessThanOrEqual(3);
        expect(run.expiredReturns).toBe(0);
        // After the first failed call only the caller that starts each step's attempt waits for it.
        expect(run.blockedAfterFirstFailure).toBeLessThanOrEqual(run.attemptsWhileFailing.length);
        expect(run.blockedAfterFirstFailure).toBeLessThanOrEqual(3);
        // Fresh credentials within one backoff step of the recovery (steps here are at most 80 s).
        expect(run.freshAt).toBeDefined();
        expect(run.freshAt! - outageEnd).toBeLessThanOrEqual(80 * SEC);
        // Calls fail only once the credentials have expired (60 s) and before the recovery.
        expect(run.failedCalls).toBeLessThanOrEqual((run.freshAt! - 60 * SEC) / 100);
      }
    }
  });

  it('a long outage: attempts stay at most 3 a minute and settle at the 5-minute cap; recovery within one step', async () => {
    for (const random of [() => 0, () => 0.9999, Math.random]) {
      const run = await simulate({ lifetimeMs: 60 * 60 * SEC, outageStart: 40 * 60 * SEC, outageEnd: 100 * 60 * SEC, untilMs: 110 * 60 * SEC, callEveryMs: 5 * SEC, random });
      expect(worstWindow(run.attemptTimes, 60 * SEC)).toBeLessThanOrEqual(3);
      const gaps = run.attemptsWhileFailing.slice(1).map((t, i) => t - run.attemptsWhileFailing[i]!);
      expect(Math.max(...gaps)).toBeLessThanOrEqual(300 * SEC + 5 * SEC);
      expect(gaps.slice(-5).every((g) => g >= 150 * SEC - 5 * SEC)).toBe(true);
      expect(run.freshAt! - 100 * 60 * SEC).toBeLessThanOrEqual(300 * SEC);
      expect(run.expiredReturns).toBe(0);
    }
  });
});
