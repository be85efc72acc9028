import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CredentialsError } from '../../src/errors.js';
import { HttpRequestError } from '../../src/http/request.js';
import { StsClient } from '../../src/sts/client.js';
import { StsError } from '../../src/sts/errors.js';
import { USER, captureLogger, clientFor, server } from '../sts/helpers.js';

// Tests added from the surviving mutants of `npm run mutate` (bench/MUTATION.md).
describe('sts/client (mutation)', () => {
  it('prints where it sends and with which key, masked; nothing else', () => {
    const client = new StsClient({
      region: 'eu-west-1',
      endpoint: 'http://user:pass@127.0.0.1:9/',
      credentials: { accessKeyId: USER.accessKeyId, secretAccessKey: USER.secretAccessKey },
      stub: { getCallerIdentity: { account: '1', arn: 'a', userId: 'u' } } as never,
    });
    expect(client.toJSON()).toEqual({ region: 'eu-west-1', endpoint: 'http://****@127.0.0.1:9/', credentials: '****MPLE', stub: ['getCallerIdentity'] });
    expect(Object.keys(client.toJSON())).toEqual(['region', 'endpoint', 'credentials', 'stub']);
    expect(inspect(client)).toBe(inspect({ StsClient: client.toJSON() }));
    expect(inspect(client)).not.toContain(USER.secretAccessKey);
    expect(new StsClient({ credentials: async () => ({ accessKeyId: 'a', secretAccessKey: 'b' }), stub: true }).toJSON()).toEqual({
      credentials: '(provider)',
      stub: true,
    });
    expect(new StsClient().toJSON()).toEqual({});
    expect(Object.keys(new StsClient({ region: undefined }).toJSON())).toEqual([]);
  });

  it('errors of its own name the sts provider', async () => {
    const client = new StsClient({ stub: true });
    const unknown = (await client.send('nope' as never, {} as never).catch((e: unknown) => e)) as CredentialsError;
    expect(unknown.providerName).toBe('sts');
    for (const bad of [0, -1]) {
      let error: CredentialsError | undefined;
      try {
        new StsClient({ timeout: bad });
      } catch (e) {
        error = e as CredentialsError;
      }
      expect(error?.providerName).toBe('sts');
      const perCall = (await client.getCallerIdentity({}, { timeout: bad }).catch((e: unknown) => e)) as CredentialsError;
      expect(perCall.providerName).toBe('sts');
    }
    const unsigned = (await new StsClient({ endpoint: 'http://127.0.0.1:9', region: 'us-east-1', env: {} })
      .getCallerIdentity()
      .catch((e: unknown) => e)) as CredentialsError;
    expect(unsigned.providerName).toBe('sts');
  });

  it('a failing credentials provider is named, with its cause', async () => {
    const s = await server();
    const cause = new Error('no keys here');
    const client = clientFor(s, { credentials: async () => Promise.reject(cause) });
    const error = (await client.getCallerIdentity().catch((e: unknown) => e)) as CredentialsError;
    expect(error).toBeInstanceOf(CredentialsError);
    expect(error.message).toBe('StsClient: could not get credentials to sign GetCallerIdentity: no keys here');
    expect(error.providerName).toBe('sts');
    expect(error.cause).toBe(cause);
    expect(s.requests).toHaveLength(0);
  });

  it('sends a form body; logs "-" for a missing status and request id, with a real latency', async () => {
    const s = await server();
    const { lines, logger } = captureLogger();
    await clientFor(s, { logger }).getCallerIdentity();
    expect(s.requests[0]!.headers['content-type']).toBe('application/x-www-form-urlencoded; charset=utf-8');
    s.inject({ kind: 'reset' });
    await clientFor(s, { logger, maxRetries: 0 }).getCallerIdentity().catch(() => undefined);
    const last = lines.filter((l) => l.startsWith('sts: GetCallerIdentity region=')).at(-1)!;
    expect(last).toMatch(/ status=- requestId=- latencyMs=(\d+) error=NetworkingError$/);
    expect(Number(/latencyMs=(\d+)/.exec(last)![1])).toBeLessThan(60_000);
  });

  it('an abort: a transport abort keeps its own error; an abort before sending says the call was aborted', async () => {
    const s = await server();
    s.inject({ kind: 'hang' });
    const controller = new AbortController();
    const pending = clientFor(s, { timeout: 10_000 }).getCallerIdentity({}, { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    const error = (await pending.catch((e: unknown) => e)) as StsError;
    expect(error).toBeInstanceOf(StsError);
    expect(error.code).toBe('RequestAborted');
    expect(error.cause).toBeInstanceOf(HttpRequestError);
    expect(error.serviceMessage).not.toBe('the call was aborted');

    const before = s.requests.length;
    const clientSignal = AbortSignal.abort();
    const early = (await clientFor(s, { signal: clientSignal }).getCallerIdentity().catch((e: unknown) => e)) as StsError;
    expect(early).toBeInstanceOf(StsError);
    expect(early.code).toBe('RequestAborted');
    expect(early.serviceMessage).toBe('the call was aborted');
    expect(early.operation).toBe('GetCallerIdentity');
    expect(s.requests.length).toBe(before);
  });

  it('a failed endpoint resolution is not cached: fixing the environment takes effect', async () => {
    const s = await server();
    const env: Record<string, string | undefined> = { AWS_ENDPOINT_URL_STS: 'not a url' };
    const client = new StsClient({ region: 'us-west-2', env });
    await expect(client.resolveEndpoint()).rejects.toThrow();
    env.AWS_ENDPOINT_URL_STS = s.url;
    expect(String((await client.resolveEndpoint()).url)).toContain(s.url.replace(/\/$/, ''));
  });
});
