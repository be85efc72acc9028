import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CredentialsNotFound } from '../../../src/errors.js';
import { fromInstanceMetadata, regionFromInstanceMetadata } from '../../../src/providers/metadata/instance.js';
import { forgetAbsentMetadataEndpoints } from '../../../src/providers/metadata/off-host.js';
import { createFakeClock } from '../../../src/testing/fake-clock.js';
import { startImdsServer, type ImdsServer } from '../../../src/testing/imds-server.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

/** A loopback port with nothing listening on it (connection refused). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Accepts connections and never answers: every request times out. */
async function blackhole(): Promise<{ endpoint: string; connections: () => number }> {
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections };
}

async function timed<T>(promise: Promise<T>): Promise<{ ms: number; error: unknown }> {
  const started = performance.now();
  try {
    await promise;
    return { ms: performance.now() - started, error: undefined };
  } catch (error) {
    return { ms: performance.now() - started, error };
  }
}

describe('off EC2', () => {
  it('connection refused on the first contact: not-found at once, remembered process-wide for 60 s', async () => {
    const port = await closedPort();
    const endpoint = `http://127.0.0.1:${port}`;
    const clock = createFakeClock();
    const options = { endpoint, env: {}, now: clock.now, retryDelayMs: 0 };

    const first = await timed(fromInstanceMetadata(options)());
    expect(first.error).toBeInstanceOf(CredentialsNotFound);
    expect((first.error as Error).message).toMatch(/no instance metadata service at .*ECONNREFUSED/);
    expect(first.ms).toBeLessThan(500);

    // Something now listens on that port, but a new provider in this process does not even try.
    const server: ImdsServer = await startImdsServer({ port, now: clock.now });
    cleanups.push(() => server.close());
    const second = await timed(fromInstanceMetadata(options)());
    expect(second.error).toBeInstanceOf(CredentialsNotFound);
    expect((second.error as Error).message).toMatch(/recently/);
    await expect(regionFromInstanceMetadata(options)).resolves.toBeUndefined();
    expect(server.count()).toBe(0);

    clock.advance(59_999);
    await expect(fromInstanceMetadata(options)()).rejects.toThrow(CredentialsNotFound);
    expect(server.count()).toBe(0);

    clock.advance(1);
    await expect(fromInstanceMetadata(options)()).resolves.toMatchObject({ accessKeyId: 'ASIAIMDS00000001' });
    expect(server.count()).toBe(3);
  });

  it('forgetAbsentMetadataEndpoints() clears the memory', async () => {
    const port = await closedPort();
    const options = { endpoint: `http://127.0.0.1:${port}`, env: {} };
    await expect(fromInstanceMetadata(options)()).rejects.toThrow(CredentialsNotFound);
    const server = await startImdsServer({ port });
    cleanups.push(() => server.close());
    await expect(fromInstanceMetadata(options)()).rejects.toThrow(/recently/);
    forgetAbsentMetadataEndpoints();
    await expect(fromInstanceMetadata(options)()).resolves.toMatchObject({ accessKeyId: 'ASIAIMDS00000001' });
  });

  it('the memory is configurable (0 turns it off)', async () => {
    const port = await closedPort();
    const options = { endpoint: `http://127.0.0.1:${port}`, env: {}, offEc2MemoryMs: 0 };
    await expect(fromInstanceMetadata(options)()).rejects.toThrow(CredentialsNotFound);
    const server = await startImdsServer({ port });
    cleanups.push(() => server.close());
    await expect(fromInstanceMetadata(options)()).resolves.toMatchObject({ accessKeyId: 'ASIAIMDS00000001' });
  });

  it('nothing answers at all (default 1 s timeouts): token PUT, then one IMDSv1 GET, not-found within 2 s; later calls instant', async () => {
    const hole = await blackhole();
    const options = { endpoint: hole.endpoint, env: {} };

    const first = await timed(fromInstanceMetadata(options)());
    expect(first.error).toBeInstanceOf(CredentialsNotFound);
    expect((first.error as Error).message).toMatch(/timed out after \d+ ms/);
    expect(first.ms).toBeGreaterThanOrEqual(1900);
    expect(first.ms).toBeLessThan(2150); // two 1 s timeouts share one 2 s budget, plus scheduling
    expect(hole.connections()).toBe(2); // the PUT and the v1 GET, no retry of either

    const second = await timed(fromInstanceMetadata(options)());
    expect(second.error).toBeInstanceOf(CredentialsNotFound);
    expect(second.ms).toBeLessThan(50);
    await expect(regionFromInstanceMetadata(options)).resolves.toBeUndefined();
    expect(hole.connections()).toBe(2);
  });

  it('with IMDSv1 disabled, a silent token PUT is the end: not-found at once, with the hop-limit hint', async () => {
    const hole = await blackhole();
    const options = { endpoint: hole.endpoint, env: { AWS_EC2_METADATA_V1_DISABLED: 'true' }, timeoutMs: 200 };
    const first = await timed(fromInstanceMetadata(options)());
    expect(first.error).toBeInstanceOf(CredentialsNotFound);
    expect((first.error as Error).message).toContain('timed out after 200 ms');
    expect((first.error as Error).message).toContain('hop limit');
    expect((first.error as Error).message).toContain('AWS_EC2_METADATA_V1_DISABLED');
    expect(first.ms).toBeLessThan(1000);
    expect(hole.connections()).toBe(1);
    const second = await timed(fromInstanceMetadata(options)());
    expect(second.ms).toBeLessThan(50);
    expect(hole.connections()).toBe(1);
  });

  it('does not treat a failure after an answer as "off EC2"', async () => {
    const clock = createFakeClock();
    const server = await startImdsServer({ now: clock.now });
    cleanups.push(() => server.close());
    server.addFault({ path: '/latest/meta-data/iam/security-credentials/', hang: true, times: Infinity });
    const options = { endpoint: server.endpoint, env: {}, now: clock.now, timeoutMs: 100, retryDelayMs: 0 };
    const result = await timed(fromInstanceMetadata(options)());
    expect(result.error).not.toBeInstanceOf(CredentialsNotFound);
    expect((result.error as Error).message).toContain('got no answer');
    server.clearFaults();
    await expect(fromInstanceMetadata(options)()).resolves.toMatchObject({ accessKeyId: 'ASIAIMDS00000001' });
  });
});
