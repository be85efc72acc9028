import { afterEach, describe, expect, it } from 'vitest';
import type { Credentials } from '../../../src/credentials.js';
import { explain } from '../../../src/explain.js';
import { refreshing } from '../../../src/refreshing.js';
import { fromInstanceMetadata, type InstanceMetadataOptions } from '../../../src/providers/metadata/instance.js';
import { fromContainerMetadata } from '../../../src/providers/metadata/container.js';
import { MetadataResponseError } from '../../../src/providers/metadata/errors.js';
import { stabilityBackoffMs } from '../../../src/providers/metadata/stability.js';
import { createFakeClock, type FakeClock } from '../../../src/testing/fake-clock.js';
import { startContainerServer, type ContainerServer } from '../../../src/testing/container-server.js';
import { IMDS_PATHS, startImdsServer, type ImdsServer, type ImdsServerOptions } from '../../../src/testing/imds-server.js';

const SECOND = 1000;
const MINUTE = 60_000;
const CREDS = IMDS_PATHS.credentials('credchain-test-role');
const servers: Array<ImdsServer | ContainerServer> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function setup(serverOptions: ImdsServerOptions = {}, providerOptions: InstanceMetadataOptions = {}) {
  const clock = createFakeClock();
  const server = await startImdsServer({ now: clock.now, ...serverOptions });
  servers.push(server);
  const warnings: string[] = [];
  const logs: string[] = [];
  let randomValue = 0;
  const provider = fromInstanceMetadata({
    endpoint: server.endpoint,
    env: {},
    now: clock.now,
    random: () => randomValue,
    retryDelayMs: 0,
    timeoutMs: 200,
    logger: {
      warn: (...args: unknown[]) => warnings.push(args.map(String).join(' ')),
      info: (...args: unknown[]) => logs.push(args.map(String).join(' ')),
      debug: (...args: unknown[]) => logs.push(args.map(String).join(' ')),
    },
    ...providerOptions,
  });
  return { clock, server, provider, warnings, logs, setRandom: (v: number) => (randomValue = v) };
}

/** Lets a background attempt (real loopback HTTP) finish. */
async function settle(isBusy: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && isBusy(); i++) await new Promise((r) => setTimeout(r, 2));
}

describe('backoff', () => {
  it('5-10 s after the first failure, doubling with jitter, capped at 5 minutes, never under 5 s (12 a minute)', () => {
    expect(stabilityBackoffMs(1, 0)).toBe(5 * SECOND);
    expect(stabilityBackoffMs(1, 0.999999)).toBe(10 * SECOND - 1);
    expect(stabilityBackoffMs(2, 0)).toBe(10 * SECOND);
    expect(stabilityBackoffMs(3, 0.5)).toBe(30 * SECOND);
    expect(stabilityBackoffMs(20, 0)).toBe(150 * SECOND);
    expect(stabilityBackoffMs(20, 0.999999)).toBeLessThanOrEqual(5 * MINUTE);
    for (let n = 1; n < 30; n++) expect(stabilityBackoffMs(n, 0)).toBeGreaterThanOrEqual(5 * SECOND);
  });
});

describe('static stability', () => {
  it('a failed renewal serves EXTENDED credentials at once, expiring at the next attempt; one warning, no secret', async () => {
    const { clock, server, provider, warnings, setRandom } = await setup({ credentialsLifetimeSeconds: 600 });
    const first = await provider();
    expect(first.accessKeyId).toBe('ASIAIMDS00000001');
    expect(provider.status()).toMatchObject({ extended: false });

    server.addFault({ path: CREDS, status: 500, times: Infinity });
    clock.advance(15 * MINUTE); // the credentials have expired meanwhile
    server.resetLog();
    setRandom(0.5);
    const since = clock.now();
    const held = await provider();
    expect(held.accessKeyId).toBe(first.accessKeyId);
    expect(held.secretAccessKey).toBe(first.secretAccessKey);
    expect(held.expiration?.getTime()).toBe(since + 7.5 * SECOND);
    expect(server.count({ path: CREDS })).toBe(2); // the caller's attempt + its retry
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('instance-metadata: renewing credentials failed');
    expect(warnings[0]).toContain('answered 500');
    expect(warnings[0]).toContain('serving EXTENDED credentials');
    expect(warnings[0]).toContain(`next attempt at ${new Date(since + 7.5 * SECOND).toISOString()}`);
    expect(warnings[0]).toContain('****0001');
    expect(warnings[0]).not.toContain(first.secretAccessKey);
    expect(warnings[0]).not.toContain(first.sessionToken);
    expect(provider.status()).toMatchObject({ extended: true, since: new Date(since), nextAttemptAt: new Date(since + 7.5 * SECOND), failures: 1 });

    // Before the next attempt: no request at all, same answer.
    clock.advance(7 * SECOND);
    const again = await provider();
    expect(again.expiration?.getTime()).toBe(held.expiration?.getTime());
    expect(server.count()).toBe(2);

    // At it: one background request (no retry); the caller does not wait for it.
    clock.advance(SECOND);
    server.clearFaults();
    server.addFault({ path: CREDS, hang: true, times: 1 });
    const during = await provider();
    expect(during.accessKeyId).toBe(first.accessKeyId);
    expect(during.expiration!.getTime()).toBeGreaterThan(clock.now());
    await settle(() => provider.status().attempting);
    expect(server.count({ path: CREDS })).toBe(3);
    expect(warnings).toHaveLength(1); // logged once per extension
    const status = provider.status();
    expect(status).toMatchObject({ extended: true, failures: 2, since: new Date(since) });
    expect(status.lastError).toMatch(/got no answer/);

    // The source answers again: the first success replaces the extended credentials.
    server.clearFaults();
    clock.set(status.nextAttemptAt!);
    const last = await provider(); // starts the attempt, still served the extended ones
    expect(last.accessKeyId).toBe(first.accessKeyId);
    await settle(() => provider.status().attempting);
    const renewed = await provider();
    expect(renewed.accessKeyId).toBe('ASIAIMDS00000002');
    expect(renewed.expiration?.getTime()).toBe(Math.floor(clock.now() / 1000) * 1000 + 600_000);
    expect(provider.status()).toEqual({ extended: false, attempting: false, failures: 0 });
  });

  it('attempts back off exponentially: over a 30-minute outage, never more than 12 requests in any minute', async () => {
    const { clock, server, provider } = await setup({ credentialsLifetimeSeconds: 60 });
    await provider();
    server.addFault({ status: 503, times: Infinity });
    clock.advance(2 * MINUTE);
    await provider(); // enters the extension (2 requests: the caller's attempt and its retry)
    server.resetLog();
    const attemptsAt: number[] = [];
    const start = clock.now();
    let seen = 0;
    for (let t = 0; t < 30 * MINUTE; t += 100) {
      clock.set(start + t);
      const c = await provider();
      expect(c.expiration!.getTime()).toBeGreaterThan(clock.now());
      await settle(() => provider.status().attempting);
      if (server.count() > seen) attemptsAt.push(t);
      seen = server.count();
    }
    for (const t of attemptsAt) expect(attemptsAt.filter((u) => u > t - MINUTE && u <= t).length).toBeLessThanOrEqual(12);
    const gaps = attemptsAt.slice(1).map((t, i) => t - attemptsAt[i]!);
    expect(gaps[0]!).toBeGreaterThanOrEqual(5 * SECOND);
    expect(gaps.at(-1)!).toBeGreaterThan(gaps[0]!); // grew
    for (const gap of gaps) expect(gap).toBeLessThanOrEqual(5 * MINUTE + 100);
    expect(server.count()).toBe(attemptsAt.length); // one request per background attempt
  });

  it('a renewal that fails early: still-valid credentials are served expiring at the next attempt (sooner), so a cache asks again then', async () => {
    const { clock, server, provider } = await setup({ credentialsLifetimeSeconds: 3600 });
    const first = await provider();
    clock.advance(40 * MINUTE);
    server.addFault({ garbage: true, times: Infinity });
    const held = await provider();
    expect(held.accessKeyId).toBe(first.accessKeyId);
    expect(held.expiration?.getTime()).toBe(clock.now() + 5 * SECOND);
    expect(held.expiration!.getTime()).toBeLessThan(first.expiration!.getTime());
  });

  it('IMDS down altogether (connection refused) after a success: still served', async () => {
    const { clock, server, provider, warnings } = await setup({ credentialsLifetimeSeconds: 60 });
    const first = await provider();
    await server.close();
    clock.advance(5 * MINUTE);
    const held = await provider();
    expect(held.accessKeyId).toBe(first.accessKeyId);
    expect(held.expiration!.getTime()).toBeGreaterThan(clock.now());
    expect(warnings[0]).toMatch(/got no answer/);
  });

  it('credentials that arrive already expired are served extended, and asked again in the background', async () => {
    const { clock, server, provider, warnings } = await setup({ credentialsLifetimeSeconds: -30 });
    const creds = await provider();
    expect(creds.accessKeyId).toBe('ASIAIMDS00000001');
    expect(creds.expiration?.getTime()).toBe(clock.now() + 5 * SECOND);
    expect(warnings[0]).toMatch(/returned credentials that expired at/);
    server.resetLog();
    clock.advance(4 * SECOND);
    await provider();
    expect(server.count()).toBe(0);
    server.setCredentialsLifetimeSeconds(3600);
    clock.advance(SECOND);
    await provider();
    await settle(() => provider.status().attempting);
    await expect(provider()).resolves.toMatchObject({ accessKeyId: 'ASIAIMDS00000002' });
  });

  it('without an earlier success, a failure is an error', async () => {
    const { server, provider } = await setup();
    server.addFault({ path: CREDS, status: 500, times: Infinity });
    await expect(provider()).rejects.toThrow(MetadataResponseError);
  });

  it('invalidate() ends the extension: the next call waits for the source', async () => {
    const { clock, server, provider } = await setup({ credentialsLifetimeSeconds: 60 });
    await provider();
    clock.advance(2 * MINUTE);
    server.addFault({ path: CREDS, status: 500, times: 2 });
    await provider();
    server.resetLog();
    provider.invalidate();
    await expect(provider()).resolves.toMatchObject({ accessKeyId: 'ASIAIMDS00000002' });
    expect(server.count()).toBe(1);
  });

  it('explain() says the credentials are EXTENDED, since when, and when the next attempt is', async () => {
    const { clock, server, provider } = await setup({ credentialsLifetimeSeconds: 60 });
    const cache = refreshing(provider, { now: clock.now, random: () => 0 });
    await cache();
    expect((await explain(cache)).toString()).not.toContain('EXTENDED');
    server.addFault({ path: CREDS, status: 500, times: Infinity });
    clock.advance(2 * MINUTE);
    const since = clock.now();
    const text = (await explain(cache)).toString();
    expect(text).toContain(`serving EXTENDED credentials since ${new Date(since).toISOString()}; next attempt at ${new Date(since + 5 * SECOND).toISOString()}`);
    expect(text).not.toMatch(/fake-secret|fake-session-token/);
  });
});

/**
 * Issue 17: 60 s credentials, IMDS down from 40 s to `recoverAtS`, a caller every 100 ms for 120 s
 * through refreshing(fromInstanceMetadata()). Returns when extended credentials were last served.
 */
async function outageRun(recoverAtS: number) {
  const clock: FakeClock = createFakeClock();
  const start = clock.now();
  const server = await startImdsServer({ now: clock.now, credentialsLifetimeSeconds: 60 });
  servers.push(server);
  const imds = fromInstanceMetadata({ endpoint: server.endpoint, env: {}, now: clock.now, random: () => 0.999, retryDelayMs: 0, timeoutMs: 200 });
  const cache = refreshing(imds, { now: clock.now, random: () => 0 });
  const served: Array<{ t: number; c: Credentials }> = [];
  let lastStep = 0;
  for (let t = 0; t <= 120 * SECOND; t += 100) {
    clock.set(start + t);
    if (t === 40 * SECOND) server.addFault({ status: 503, times: Infinity });
    if (t === recoverAtS * SECOND) {
      server.clearFaults();
      const s = imds.status();
      lastStep = s.extended ? s.nextAttemptAt!.getTime() - start - t : 0;
    }
    const c = await cache();
    expect(c.expiration!.getTime()).toBeGreaterThan(clock.now());
    served.push({ t, c });
    await settle(() => cache.status().renewing || imds.status().attempting);
  }
  const firstKey = served[0]!.c.accessKeyId;
  const extendedAfterRecovery = served.filter((s) => s.t >= recoverAtS * SECOND && s.c.accessKeyId === firstKey);
  return { served, firstKey, extendedAfterRecovery, lastStep, imds };
}

describe('issue 17: static stability ends when instance metadata answers again', () => {
  it('recovery before the original expiry (down 40-55 s): fresh credentials within one backoff step', async () => {
    const { extendedAfterRecovery, served, firstKey, imds } = await outageRun(55);
    const lastExtendedT = extendedAfterRecovery.at(-1)?.t ?? 0;
    // At most one backoff step (10 s at most for the first steps) plus refreshing's window on a short credential.
    expect(lastExtendedT - 55 * SECOND).toBeLessThanOrEqual(10 * SECOND);
    expect(served.filter((s) => s.t >= 70 * SECOND && s.c.accessKeyId === firstKey)).toEqual([]);
    expect(imds.status().extended).toBe(false);
  });

  it('recovery after the original expiry (down 40-75 s): extended credentials past 60 s, then fresh within one backoff step', async () => {
    const { extendedAfterRecovery, served, firstKey, lastStep } = await outageRun(75);
    // Served past the expiration IMDS gave (60 s): static stability did its job.
    expect(served.some((s) => s.t > 60 * SECOND && s.c.accessKeyId === firstKey)).toBe(true);
    const lastExtendedT = extendedAfterRecovery.at(-1)?.t ?? 0;
    expect(lastExtendedT - 75 * SECOND).toBeLessThanOrEqual(Math.max(lastStep, 0) + 1100);
    expect(served.filter((s) => s.t >= 75 * SECOND + 20 * SECOND && s.c.accessKeyId === firstKey)).toEqual([]);
  });
});

describe('container metadata: the same static stability', () => {
  it('extends, retries in the background with backoff, and ends at the first success', async () => {
    const clock = createFakeClock();
    const server = await startContainerServer({ now: clock.now, credentialsLifetimeSeconds: 60 });
    servers.push(server);
    const warnings: string[] = [];
    const provider = fromContainerMetadata({
      env: { AWS_CONTAINER_CREDENTIALS_FULL_URI: server.url },
      now: clock.now,
      random: () => 0,
      retryDelayMs: 0,
      logger: { warn: (...a: unknown[]) => warnings.push(a.map(String).join(' ')) },
    });
    const first = await provider();
    server.addFault({ status: 500, times: Infinity });
    clock.advance(2 * MINUTE);
    const held = await provider();
    expect(held.accessKeyId).toBe(first.accessKeyId);
    expect(held.expiration?.getTime()).toBe(clock.now() + 5 * SECOND);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('container-metadata: renewing credentials failed');
    expect(provider.status()).toMatchObject({ extended: true });
    server.resetLog();
    await provider();
    expect(server.count()).toBe(0);
    clock.advance(5 * SECOND); // the next attempt, still failing: one request, no retry
    expect((await provider()).accessKeyId).toBe(first.accessKeyId);
    await settle(() => provider.status().attempting);
    expect(server.count()).toBe(1);
    expect(provider.status()).toMatchObject({ extended: true, failures: 2 });
    server.clearFaults();
    server.resetLog();
    clock.set(provider.status().nextAttemptAt!);
    expect((await provider()).accessKeyId).toBe(first.accessKeyId);
    await settle(() => provider.status().attempting);
    expect((await provider()).accessKeyId).toBe('ASIACONT00000002');
    expect(server.count()).toBe(1);
  });
});

describe('the package root', () => {
  it("fromInstanceMetadata() from the package root (lazy) has status() too", async () => {
    const { fromInstanceMetadata: rootFromInstanceMetadata } = await import('../../../src/index.js');
    const clock = createFakeClock();
    const server = await startImdsServer({ now: clock.now, credentialsLifetimeSeconds: 60 });
    servers.push(server);
    const provider = rootFromInstanceMetadata({ endpoint: server.endpoint, env: {}, now: clock.now, random: () => 0, retryDelayMs: 0 });
    expect(provider.status()).toEqual({ extended: false, attempting: false, failures: 0 });
    await provider();
    server.addFault({ status: 500, times: Infinity });
    clock.advance(2 * MINUTE);
    await provider();
    expect(provider.status()).toMatchObject({ extended: true, since: new Date(clock.now()) });
  });
});
