import { afterEach, describe, expect, it } from 'vitest';
import type { Credentials } from '../../src/credentials.js';
import { fromInstanceMetadata } from '../../src/providers/metadata/instance.js';
import { refreshing } from '../../src/refreshing.js';
import { createFakeClock } from '../../src/testing/fake-clock.js';
import { IMDS_PATHS, startImdsServer, type ImdsServer } from '../../src/testing/imds-server.js';

/**
 * IMDS outage soak: `refreshing(fromInstanceMetadata())` over six simulated hours with one-hour
 * credentials and a one-hour outage in the middle (IMDS answering 500, hanging, or refusing
 * connections). Callers must keep getting the last credentials (static stability), never expired
 * ones; IMDS must see background attempts backing off (at most 5 minutes apart, one request each)
 * during the outage; and renewal must resume within one backoff step when IMDS is back.
 */

const MINUTE = 60_000;
const LIFETIME_MIN = 60;
const SIMULATED_MIN = 6 * 60;
const OUTAGE_START_MIN = 150; // the credentials obtained before it expire inside it
const OUTAGE_END_MIN = OUTAGE_START_MIN + 60;
const CALLERS_PER_STEP = 3;
const MAX_RETRIES = 1; // the provider's default
const CREDS_PATH = IMDS_PATHS.credentials('credchain-test-role');

/** A small deterministic random source (LCG), so runs are repeatable. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const servers: ImdsServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

type Outage = '500' | 'hang' | 'refused';

async function soak(outage: Outage) {
  const clock = createFakeClock(Date.UTC(2026, 0, 1));
  const start = clock.now();
  let server: ImdsServer | undefined = await startImdsServer({ now: clock.now, credentialsLifetimeSeconds: LIFETIME_MIN * 60 });
  servers.push(server);
  const { port, endpoint } = server;
  const warnings: string[] = [];
  const logger = {
    warn: (...a: unknown[]) => warnings.push(a.map(String).join(' ')),
    debug: (...a: unknown[]) => warnings.push(a.map(String).join(' ')),
  };
  const random = seeded(42);
  const imds = fromInstanceMetadata({
      endpoint,
      env: {},
      now: clock.now,
      random,
      logger,
      retryDelayMs: 0,
      maxRetries: MAX_RETRIES,
      timeoutMs: outage === 'hang' ? 50 : 500,
    });
  const provider = refreshing(imds, { now: clock.now, random, logger });

  /** Credential-path requests IMDS received, by the minute (the fake clock stands still within a step). */
  const requestsAt = new Map<number, number>();
  /** Failed renewal attempts the provider reported (the only count when nothing listens), by the minute. */
  const failedAttemptsAt = new Map<number, number>();
  let seenRequests = 0;
  let seenFailures = 0;
  let closedServerRequests = 0; // a refused outage closes the server and starts a new one on the same port
  /** Each access key id's expiration as IMDS first issued it, before any static-stability extension. */
  const issuedExpiry = new Map<string, number>();
  const served: { minute: number; c: Credentials }[] = [];
  let servedPastIssuedExpiry = 0;

  for (let minute = 0; minute <= SIMULATED_MIN; minute++) {
    if (minute === OUTAGE_START_MIN) {
      if (outage === '500') server!.addFault({ status: 500, times: Infinity });
      if (outage === 'hang') server!.addFault({ hang: true, times: Infinity });
      if (outage === 'refused') {
        closedServerRequests += server!.count({ path: CREDS_PATH });
        await server!.close();
        server = undefined;
      }
    }
    if (minute === OUTAGE_END_MIN) {
      if (outage === 'refused') {
        server = await startImdsServer({ now: clock.now, credentialsLifetimeSeconds: LIFETIME_MIN * 60, port });
        servers.push(server);
      } else {
        server!.clearFaults();
      }
    }

    const now = clock.now();
    const results = await Promise.all(Array.from({ length: CALLERS_PER_STEP }, () => provider()));
    // A background renewal may still be in flight (e.g. waiting out a hang): let it settle before time moves.
    // So may a background attempt of the extended credentials (static stability).
    while (provider.status().renewing || imds.status().attempting) await new Promise((r) => setTimeout(r, 2));

    for (const c of results) {
      // Never expired by the fake clock.
      expect(c.expiration!.getTime()).toBeGreaterThan(now);
      if (!issuedExpiry.has(c.accessKeyId)) issuedExpiry.set(c.accessKeyId, c.expiration!.getTime());
      if (issuedExpiry.get(c.accessKeyId)! <= now) servedPastIssuedExpiry += 1;
      served.push({ minute, c });
    }
    const total = closedServerRequests + (server?.count({ path: CREDS_PATH }) ?? 0);
    if (total > seenRequests) requestsAt.set(minute, total - seenRequests);
    seenRequests = total;
    const failures = warnings.filter((w) => w.includes('renewing credentials failed') || w.includes('while extended failed')).length;
    if (failures > seenFailures) failedAttemptsAt.set(minute, failures - seenFailures);
    seenFailures = failures;
    clock.advance(MINUTE);
  }
  return { start, served, requestsAt, failedAttemptsAt, issuedExpiry, servedPastIssuedExpiry, warnings, provider };
}

describe('IMDS outage soak (6 simulated hours, 1-hour credentials, 1-hour outage)', () => {
  it.each<Outage>(['500', 'hang', 'refused'])('outage by %s: static stability, bounded retries, renewal resumes', async (outage) => {
    const realStart = performance.now();
    const { served, requestsAt, failedAttemptsAt, issuedExpiry, servedPastIssuedExpiry, warnings, provider } = await soak(outage);
    const keyAt = (minute: number) => served.find((s) => s.minute === minute)!.c.accessKeyId;

    // Every caller got credentials at every step.
    expect(served).toHaveLength((SIMULATED_MIN + 1) * CALLERS_PER_STEP);

    // Before the outage: about one renewal per credential lifetime (renewal ~15 min before expiry).
    const before = [...requestsAt].filter(([m]) => m < OUTAGE_START_MIN);
    const keysBefore = new Set(served.filter((s) => s.minute < OUTAGE_START_MIN).map((s) => s.c.accessKeyId));
    expect(keysBefore.size).toBeGreaterThanOrEqual(Math.floor(OUTAGE_START_MIN / LIFETIME_MIN) + 1);
    expect(keysBefore.size).toBeLessThanOrEqual(Math.ceil(OUTAGE_START_MIN / (LIFETIME_MIN * 0.7)) + 1);
    for (const [, n] of before) expect(n).toBe(1); // one request per renewal (role name and token reused)

    // During the outage: the last credentials keep being served, even past the expiration IMDS gave them.
    const lastKey = keyAt(OUTAGE_START_MIN - 1);
    const during = served.filter((s) => s.minute >= OUTAGE_START_MIN && s.minute < OUTAGE_END_MIN);
    expect(new Set(during.map((s) => s.c.accessKeyId))).toEqual(new Set([lastKey]));
    expect(issuedExpiry.get(lastKey)!).toBeLessThan(Date.UTC(2026, 0, 1) + OUTAGE_END_MIN * MINUTE);
    expect(servedPastIssuedExpiry).toBeGreaterThan(0);

    // ...and IMDS sees at most one attempt per step, backing off (5-10 s, doubling, at most 5 minutes
    // apart): counted by the server (500, hang) and by the provider's failure reports (all three).
    const inOutage = ([m]: [number, number]) => m >= OUTAGE_START_MIN && m < OUTAGE_END_MIN;
    const failed = [...failedAttemptsAt].filter(inOutage);
    const received = [...requestsAt].filter(inOutage);
    for (const [, n] of failed) expect(n).toBe(1);
    const minutes = failed.map(([m]) => m);
    // Attempts start once the cached credentials enter their renewal window, before they expire...
    const lastIssuedExpiryMin = (issuedExpiry.get(lastKey)! - Date.UTC(2026, 0, 1)) / MINUTE;
    expect(minutes[0]!).toBeGreaterThanOrEqual(lastIssuedExpiryMin - 18); // advisory window: 15 min + 20% jitter
    expect(minutes[0]!).toBeLessThan(lastIssuedExpiryMin);
    // ...then back off: the gaps grow, and stay at most 5 minutes (+1 for the one-minute step), since the
    // extended credentials expire at the next attempt.
    const gaps = minutes.slice(1).map((m, i) => m - minutes[i]!);
    expect(gaps.at(-1)!).toBeGreaterThan(gaps[0]!);
    for (const gap of gaps) expect(gap).toBeLessThanOrEqual(5 + 1);
    expect(OUTAGE_END_MIN - minutes.at(-1)!).toBeLessThanOrEqual(5 + 1);
    if (outage === 'refused') expect(received).toEqual([]);
    else {
      expect(received.map(([m]) => m)).toEqual(minutes);
      // The caller's attempt that began the extension retried once; background attempts do not retry.
      expect(received.map(([, n]) => n)).toEqual([1 + MAX_RETRIES, ...received.slice(1).map(() => 1)]);
    }

    // After it: new credentials within one backoff step (at most 5 minutes), then the normal cadence again.
    const firstNewMinute = served.find((s) => s.minute >= OUTAGE_END_MIN && s.c.accessKeyId !== lastKey)?.minute;
    expect(firstNewMinute).toBeDefined();
    expect(firstNewMinute!).toBeLessThanOrEqual(OUTAGE_END_MIN + 5 + 1);
    const keysAfter = new Set(served.filter((s) => s.minute >= firstNewMinute!).map((s) => s.c.accessKeyId));
    const minutesAfter = SIMULATED_MIN - firstNewMinute!;
    expect(keysAfter.size).toBeGreaterThanOrEqual(Math.floor(minutesAfter / LIFETIME_MIN) + 1);
    expect(keysAfter.size).toBeLessThanOrEqual(Math.ceil(minutesAfter / (LIFETIME_MIN * 0.7)) + 1);
    expect(provider.status()).toMatchObject({ state: 'fresh', renewing: false });

    // The outage was reported, without secrets.
    expect(warnings.some((w) => w.includes('serving EXTENDED credentials'))).toBe(true);
    for (const w of warnings) expect(w).not.toMatch(/fake-secret|fake-session-token/);

    // Bounded in real time.
    expect(performance.now() - realStart).toBeLessThan(10_000);
  });
});
