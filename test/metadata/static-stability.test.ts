import { afterEach, describe, expect, it } from 'vitest';
import { refreshing } from '../../src/refreshing.js';
import { fromInstanceMetadata, type InstanceMetadataOptions } from '../../src/providers/instance-metadata.js';
import { MetadataResponseError } from '../../src/providers/metadata-errors.js';
import { createFakeClock } from '../../src/testing/fake-clock.js';
import { IMDS_PATHS, startImdsServer, type ImdsServer, type ImdsServerOptions } from '../../src/testing/imds-server.js';

const MINUTE = 60_000;
const CREDS = IMDS_PATHS.credentials('credchain-test-role');
const servers: ImdsServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function setup(serverOptions: ImdsServerOptions = {}, providerOptions: InstanceMetadataOptions = {}) {
  const clock = createFakeClock();
  const server = await startImdsServer({ now: clock.now, ...serverOptions });
  servers.push(server);
  const warnings: string[] = [];
  let randomValue = 0;
  const provider = fromInstanceMetadata({
    endpoint: server.endpoint,
    env: {},
    now: clock.now,
    random: () => randomValue,
    retryDelayMs: 0,
    timeoutMs: 200,
    logger: { warn: (...args: unknown[]) => warnings.push(args.map(String).join(' ')) },
    ...providerOptions,
  });
  return { clock, server, provider, warnings, setRandom: (v: number) => (randomValue = v) };
}

describe('static stability', () => {
  it('a failed renewal serves the last credentials, expiration moved to the next try, and waits 5-10 minutes', async () => {
    const { clock, server, provider, warnings, setRandom } = await setup({ credentialsLifetimeSeconds: 600 });
    const first = await provider();
    expect(first.accessKeyId).toBe('ASIAIMDS00000001');

    server.addFault({ path: CREDS, status: 500, times: Infinity });
    clock.advance(15 * MINUTE); // the credentials have expired meanwhile
    server.resetLog();
    setRandom(0.5);
    const held = await provider();
    expect(held.accessKeyId).toBe(first.accessKeyId);
    expect(held.secretAccessKey).toBe(first.secretAccessKey);
    expect(held.expiration?.getTime()).toBe(clock.now() + 7.5 * MINUTE);
    expect(server.count({ path: CREDS })).toBe(2); // one attempt + one retry
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('instance-metadata: renewing credentials failed');
    expect(warnings[0]).toContain('answered 500');
    expect(warnings[0]).toContain('****0001');
    expect(warnings[0]).not.toContain(first.secretAccessKey);
    expect(warnings[0]).not.toContain(first.sessionToken);

    // Inside the pause: no request at all, same answer.
    clock.advance(7 * MINUTE);
    const again = await provider();
    expect(again.expiration?.getTime()).toBe(held.expiration?.getTime());
    expect(server.count()).toBe(2);

    // After it: ask again; IMDS is back.
    server.clearFaults();
    clock.advance(MINUTE);
    const renewed = await provider();
    expect(renewed.accessKeyId).toBe('ASIAIMDS00000002');
    expect(renewed.expiration?.getTime()).toBe(Math.floor(clock.now() / 1000) * 1000 + 600_000);
  });

  it('the pause is randomized between 5 and 10 minutes', async () => {
    for (const [random, pauseMs] of [
      [0, 5 * MINUTE],
      [0.999999, 10 * MINUTE - 1],
    ] as const) {
      const { clock, server, provider, setRandom } = await setup({ credentialsLifetimeSeconds: 60 });
      await provider();
      clock.advance(2 * MINUTE);
      server.addFault({ status: 503, times: Infinity });
      setRandom(random);
      const held = await provider();
      expect(held.expiration!.getTime() - clock.now()).toBe(pauseMs);
    }
  });

  it('keeps the later original expiration when renewal fails early', async () => {
    const { clock, server, provider } = await setup({ credentialsLifetimeSeconds: 3600 });
    const first = await provider();
    clock.advance(40 * MINUTE);
    server.addFault({ garbage: true, times: Infinity });
    const held = await provider();
    expect(held.expiration?.getTime()).toBe(first.expiration?.getTime());
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

  it('credentials that arrive already expired are served with an extended expiration and a warning', async () => {
    const { clock, server, provider, warnings } = await setup({ credentialsLifetimeSeconds: -30 });
    const creds = await provider();
    expect(creds.accessKeyId).toBe('ASIAIMDS00000001');
    expect(creds.expiration?.getTime()).toBe(clock.now() + 5 * MINUTE);
    expect(warnings[0]).toMatch(/returned credentials that expired at/);
    server.resetLog();
    clock.advance(4 * MINUTE);
    await provider();
    expect(server.count()).toBe(0);
  });

  it('without an earlier success, a failure is an error', async () => {
    const { server, provider } = await setup();
    server.addFault({ path: CREDS, status: 500, times: Infinity });
    await expect(provider()).rejects.toThrow(MetadataResponseError);
  });

  it('invalidate() ends the pause early', async () => {
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

  it('under refreshing(): an hour-long outage never fails a caller, and IMDS sees one attempt per pause', async () => {
    const { clock, server, provider } = await setup({ credentialsLifetimeSeconds: 3600 });
    const cache = refreshing(provider, { now: clock.now, random: () => 0 });
    await cache();
    server.addFault({ path: CREDS, status: 503, times: Infinity });
    server.resetLog();
    let served = 0;
    for (let minute = 1; minute <= 120; minute++) {
      clock.advance(MINUTE);
      const creds = await cache();
      expect(creds.expiration!.getTime()).toBeGreaterThan(clock.now());
      // let background renewals settle
      await new Promise((resolve) => setImmediate(resolve));
      served += 1;
    }
    expect(served).toBe(120);
    // The first renewal starts in the advisory window (~45 min); from then on one attempt (2 requests
    // with the retry) per 5-minute pause.
    const attempts = server.count({ path: CREDS }) / 2;
    expect(attempts).toBeGreaterThanOrEqual(10);
    expect(attempts).toBeLessThanOrEqual(16);
  });
});
