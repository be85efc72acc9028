import { afterEach, describe, expect, it } from 'vitest';
import { CredentialsNotFound } from '../../../src/errors.js';
import { fromInstanceMetadata, regionFromInstanceMetadata } from '../../../src/providers/metadata/instance.js';
import { createFakeClock } from '../../../src/testing/fake-clock.js';
import { IMDS_PATHS, startImdsServer, type ImdsServer, type ImdsServerOptions } from '../../../src/testing/imds-server.js';

/**
 * Issue 12, instance metadata inside containers: on EC2 with a metadata hop limit of 1 (Docker, EKS
 * pods without host networking) the token PUT's answer never arrives while a plain GET works. Like
 * botocore and the JS SDK we then fall back to IMDSv1, unless IMDSv1 is disabled.
 */

const servers: ImdsServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function hopLimited(options: ImdsServerOptions = {}) {
  const clock = createFakeClock();
  const server = await startImdsServer({ now: clock.now, dropTokenAnswers: true, ...options });
  servers.push(server);
  return { clock, server };
}

async function timed<T>(promise: Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const started = performance.now();
  try {
    const value = await promise;
    return { ms: performance.now() - started, value };
  } catch (error) {
    return { ms: performance.now() - started, error };
  }
}

describe('token PUT dropped, GETs answered (hop limit 1)', () => {
  it('falls back to IMDSv1 after the PUT times out, and stays on v1: renewals cost one GET, no more waiting', async () => {
    const { clock, server } = await hopLimited();
    const debug: string[] = [];
    const provider = fromInstanceMetadata({
      endpoint: server.endpoint,
      env: {},
      now: clock.now,
      timeoutMs: 200,
      retryDelayMs: 0,
      logger: { debug: (...a: unknown[]) => debug.push(a.map(String).join(' ')) },
    });
    const first = await timed(provider());
    expect(first.error).toBeUndefined();
    expect(first.value!.accessKeyId).toBe('ASIAIMDS00000001');
    expect(first.ms).toBeGreaterThanOrEqual(190); // one PUT timeout
    expect(first.ms).toBeLessThan(1000);
    expect(server.count({ method: 'PUT' })).toBe(1); // not retried
    expect(server.requests.filter((r) => r.method === 'GET').every((r) => r.headers['x-aws-ec2-metadata-token'] === undefined)).toBe(true);
    expect(debug.some((l) => l.includes('trying IMDSv1') && l.includes('hop limit'))).toBe(true);

    server.resetLog();
    clock.advance(7 * 3600_000);
    const renewed = await timed(provider());
    expect(renewed.value!.accessKeyId).toBe('ASIAIMDS00000002');
    expect(renewed.ms).toBeLessThan(150);
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`GET ${IMDS_PATHS.credentials('credchain-test-role')}`]);
  });

  it('the region lookup falls back the same way', async () => {
    const { server } = await hopLimited({ region: 'eu-west-3' });
    await expect(regionFromInstanceMetadata({ endpoint: server.endpoint, env: {}, timeoutMs: 200 })).resolves.toBe('eu-west-3');
  });

  it('an instance that later requires tokens (401 to v1) makes it ask for a token again', async () => {
    const { server } = await hopLimited();
    const provider = fromInstanceMetadata({ endpoint: server.endpoint, env: {}, timeoutMs: 200, retryDelayMs: 0 });
    await provider();
    server.setDropTokenAnswers(false);
    server.setTokens('required');
    provider.invalidate();
    await expect(provider()).resolves.toMatchObject({ accessKeyId: 'ASIAIMDS00000002' });
    expect(server.count({ method: 'PUT' })).toBe(2);
  });

  it.each([
    ['AWS_EC2_METADATA_V1_DISABLED=true', { env: { AWS_EC2_METADATA_V1_DISABLED: 'true' } }],
    ['ec2_metadata_v1_disabled = true', { env: {}, profileSettings: { ec2_metadata_v1_disabled: 'true' } }],
    ['the ec2MetadataV1Disabled option', { env: {}, ec2MetadataV1Disabled: true }],
  ])('no fallback when %s: not-found naming the setting and the hop limit, no GET sent', async (_label, options) => {
    const { server } = await hopLimited();
    const result = await timed(fromInstanceMetadata({ endpoint: server.endpoint, timeoutMs: 200, ...options })());
    expect(result.error).toBeInstanceOf(CredentialsNotFound);
    expect((result.error as Error).message).toMatch(/hop limit/);
    expect(server.count({ method: 'GET' })).toBe(0);
  });
});
