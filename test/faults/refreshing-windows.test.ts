import { describe, expect, it } from 'vitest';
import { makeCredentials } from '../../src/credentials.js';
import { refreshing } from '../../src/refreshing.js';
import { createFakeClock } from '../../src/testing/fake-clock.js';
import { mockProvider } from '../../src/testing/mock-provider.js';

/**
 * Found by the assume-role fault soak: with an advisory window narrower than the mandatory one
 * (e.g. `advisoryWindowMs: 0` to turn background renewal off), the cache served its value until
 * the moment it expired and only then renewed, so one failed renewal at expiry failed every caller.
 * The mandatory window must hold whatever the advisory cap: callers wait for a renewal inside it,
 * and a failed renewal there still serves the unexpired credentials (retries then run in the background).
 */

const MIN = 60_000;

describe('refreshing: the mandatory window holds when the advisory window is narrower', () => {
  it.each([
    { advisoryWindowMs: 0, mandatoryWindowMs: undefined },
    { advisoryWindowMs: MIN, mandatoryWindowMs: 10 * MIN },
  ])('advisory cap $advisoryWindowMs ms: renewal starts at the mandatory window, not at expiry', async (caps) => {
    const clock = createFakeClock();
    const t0 = clock.now();
    let n = 0;
    const inner = mockProvider(() => {
      n += 1;
      if (n === 2) throw new Error('STS is down for one attempt');
      return makeCredentials({ accessKeyId: `AKIDWINDOWTEST00000${n}`, secretAccessKey: 's', expiration: new Date(clock.now() + 60 * MIN) });
    });
    const provider = refreshing(inner, {
      now: clock.now,
      random: () => 0,
      advisoryWindowMs: caps.advisoryWindowMs,
      ...(caps.mandatoryWindowMs !== undefined ? { mandatoryWindowMs: caps.mandatoryWindowMs } : {}),
    });
    await provider();

    // The mandatory window of a 1-hour credential is its last 6 minutes (a tenth, under the 10-minute cap).
    clock.set(t0 + 55 * MIN);
    expect(provider.status().state).toBe('mandatory');
    const during = await provider(); // renewal attempted and failed: the unexpired credentials are served
    expect(inner.calls).toBe(2);
    expect(during.accessKeyId).toBe('AKIDWINDOWTEST000001');

    // Past the first backoff step (20 s with random 0): after a failure the retry runs in the
    // background, so the caller gets the still-valid credentials at once and the next one the new ones.
    clock.advance(MIN);
    expect((await provider()).accessKeyId).toBe('AKIDWINDOWTEST000001');
    await new Promise((r) => setImmediate(r));
    expect(inner.calls).toBe(3);
    const renewed = await provider();
    expect(renewed.accessKeyId).toBe('AKIDWINDOWTEST000003');
    expect(renewed.expiration!.getTime()).toBeGreaterThan(clock.now());
  });
});
