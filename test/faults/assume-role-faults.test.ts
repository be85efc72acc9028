import { afterEach, describe, expect, it } from 'vitest';
import type { Credentials } from '../../src/credentials.js';
import { fromAssumeRole } from '../../src/providers/sts/assume-role.js';
import { fromStatic } from '../../src/providers/static.js';
import { clearStsSessionCache, configureStsSessionCache } from '../../src/providers/sts/session-cache.js';
import { refreshing, type RefreshingProvider } from '../../src/refreshing.js';
import { createFakeClock } from '../../src/testing/fake-clock.js';
import { startStsServer, STS_SERVER_DEFAULT_USER, type StsFault, type StsServer } from '../../src/testing/sts-server.js';

/**
 * Refresh under faults: 100,000 calls to `refreshing(fromAssumeRole(...))` over a simulated day
 * (fake clock shared by the provider, the STS client's signatures, the session cache and the local
 * STS) while the local STS fails 20% of requests with throttling, 500s, hangs (client timeouts)
 * and dropped connections. No call may return expired credentials or fail, no rejection may go
 * unhandled, no timer may outlive the test, and STS requests must stay within a small bound of
 * (day / credential lifetime).
 */

const MINUTE = 60_000;
const DAY_MS = 24 * 60 * MINUTE;
const CALLS = 100_000;
const CALLS_PER_STEP = 20;
const STEPS = CALLS / CALLS_PER_STEP; // 5000 steps of 17.28 s
const STEP_MS = DAY_MS / STEPS;
const FAULT_RATE = 0.2;
const MAX_RETRIES = 3;
const ROLE_ARN = 'arn:aws:iam::111122223333:role/faults';
const FAULTS: StsFault[] = [{ kind: 'throttle' }, { kind: 'server-error' }, { kind: 'server-error', status: 503 }, { kind: 'hang' }, { kind: 'reset' }];

/** A small deterministic random source (LCG): the same faults hit the same requests every run. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const activeTimeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

let server: StsServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  clearStsSessionCache();
  configureStsSessionCache({ now: undefined });
});

interface Scenario {
  label: string;
  durationSeconds: number;
  /** `0` turns background renewal off: every renewal happens in the mandatory window, with callers waiting. */
  advisoryWindowMs?: number;
  /** Use the `refreshing()` that `fromAssumeRole` comes wrapped in, rather than wrapping `refresh: false`. */
  builtIn?: boolean;
}
const SCENARIOS: Scenario[] = [
  { label: '1-hour sessions (AssumeRole default)', durationSeconds: 3600 },
  { label: '1-hour sessions, fromAssumeRole with its built-in refreshing', durationSeconds: 3600, builtIn: true },
  { label: '15-minute sessions (the STS minimum)', durationSeconds: 900 },
  { label: '15-minute sessions, callers waiting on every renewal', durationSeconds: 900, advisoryWindowMs: 0 },
];

describe('refreshing(fromAssumeRole()) under 20% STS faults over a simulated day', () => {
  it.each(SCENARIOS)('$label: 100,000 calls never expired or failed, no unhandled rejection, no timer left, STS requests bounded', async (scenario) => {
    const LIFETIME_MS = scenario.durationSeconds * 1000;
    const realStart = performance.now();
    const timeoutsBefore = activeTimeouts();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);

    const clock = createFakeClock(Date.UTC(2026, 0, 1));
    const start = clock.now();
    server = await startStsServer({ now: clock.now });
    configureStsSessionCache({ now: clock.now });
    const warnings: string[] = [];
    const logger = { warn: (...a: unknown[]) => warnings.push(a.map(String).join(' ')) };
    const options = {
      roleArn: ROLE_ARN,
      roleSessionName: 'faults-soak',
      durationSeconds: scenario.durationSeconds,
      source: fromStatic({ accessKeyId: STS_SERVER_DEFAULT_USER.accessKeyId, secretAccessKey: STS_SERVER_DEFAULT_USER.secretAccessKey }),
      sts: { endpoint: server.url, region: 'us-east-1', env: {}, maxRetries: MAX_RETRIES, baseDelay: 1, maxDelay: 5, timeout: 100 },
      now: clock.now,
      logger,
    };
    const tuning = { random: seeded(7), ...(scenario.advisoryWindowMs !== undefined ? { advisoryWindowMs: scenario.advisoryWindowMs } : {}) };
    const provider: RefreshingProvider = scenario.builtIn
      ? fromAssumeRole({ ...options, refresh: tuning })
      : refreshing(fromAssumeRole({ ...options, refresh: false }), { now: clock.now, logger, ...tuning });

    const faultRandom = seeded(2026);
    let calls = 0;
    let failures = 0;
    let expiredServed = 0;
    let minRemainingMs = Infinity;
    const keys = new Set<string>();
    for (let step = 0; step < STEPS; step++) {
      // 20% of requests fail; the kind moves on after each faulted request, so a day sees every kind.
      const faultedSoFar = server.requests.reduce((n, r) => n + (r.fault !== undefined ? 1 : 0), 0);
      server.setFaultRate(FAULT_RATE, FAULTS[faultedSoFar % FAULTS.length]!, faultRandom);
      const now = clock.now();
      const results = await Promise.allSettled(Array.from({ length: CALLS_PER_STEP }, () => provider()));
      calls += results.length;
      for (const r of results) {
        if (r.status === 'rejected') {
          failures += 1;
          continue;
        }
        const c: Credentials = r.value;
        const remaining = c.expiration!.getTime() - now;
        if (remaining <= 0) expiredServed += 1;
        minRemainingMs = Math.min(minRemainingMs, remaining);
        keys.add(c.accessKeyId);
      }
      // A background renewal runs over real loopback HTTP: let it finish before simulated time moves on.
      while (provider.status().renewing) await new Promise((r) => setTimeout(r, 1));
      clock.advance(STEP_MS);
    }
    provider.invalidate();
    const stsCount = server.counts.total ?? 0;
    const faulted = server.requests.filter((r) => r.fault !== undefined);
    const tally: Record<string, number> = {};
    for (const r of faulted) tally[r.fault!] = (tally[r.fault!] ?? 0) + 1;
    const faultKinds = Object.entries(tally).map(([k, n]) => `${k} ${n}`).join(', ');
    const issued = server.issued.length;
    await server.close();
    server = undefined;
    await new Promise((r) => setTimeout(r, 20)); // let closed sockets and finished timers settle
    process.off('unhandledRejection', onUnhandled);

    expect(calls).toBe(CALLS);
    expect(expiredServed).toBe(0);
    expect(failures).toBe(0);
    expect(unhandled).toEqual([]);
    expect(activeTimeouts()).toBeLessThanOrEqual(timeoutsBefore);
    expect(clock.now() - start).toBe(DAY_MS);

    // Renewals: about one per credential lifetime (renewed a quarter of it early, plus jitter).
    const renewalsNominal = DAY_MS / LIFETIME_MS;
    expect(keys.size).toBeGreaterThanOrEqual(renewalsNominal);
    expect(keys.size).toBeLessThanOrEqual(2 * renewalsNominal);
    expect(minRemainingMs).toBeGreaterThan(0);
    // Every session STS issued was handed out (none lost to a race), except perhaps one from a
    // background renewal started by the very last step; and requests stay bounded: at most
    // 2 x renewals x (1 + retries), however the faults fall.
    expect(issued - keys.size).toBeGreaterThanOrEqual(0);
    expect(issued - keys.size).toBeLessThanOrEqual(1);
    expect(stsCount).toBeLessThanOrEqual(2 * renewalsNominal * (1 + MAX_RETRIES));
    expect(faulted.length).toBeGreaterThan(0);
    expect(Object.keys(tally).sort()).toEqual([...new Set(FAULTS.map((f) => f.kind))].sort());

    console.info(
      `assume-role soak, ${scenario.label}: ${calls} calls over 24 simulated hours, ${keys.size} sessions, ${faulted.length} of ${stsCount} STS requests faulted ` +
        `(${faultKinds}), min remaining lifetime ${Math.round(minRemainingMs / 1000)} s, ${Math.round(performance.now() - realStart)} ms real`,
    );
  });
});
