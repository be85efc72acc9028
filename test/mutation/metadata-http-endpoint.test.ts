import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpRequestError } from '../../src/http/request.js';
import {
  IMDS_IPV4_ENDPOINT,
  IMDS_IPV6_ENDPOINT,
  IMDS_SETTINGS,
  booleanSetting,
  loadProfileSettings,
  resolveImdsEndpoint,
  settingValue,
} from '../../src/providers/metadata/endpoint.js';
import { MetadataConfigError, MetadataResponseError } from '../../src/providers/metadata/errors.js';
import {
  METADATA_HTTP_DEFAULTS,
  describeCall,
  metadataHttpSettings,
  sendMetadataRequest,
  transportFailureOf,
  unexpectedStatus,
  withMetadataRetries,
} from '../../src/providers/metadata/http.js';

// Tests added from the surviving mutants of `npm run mutate` (bench/MUTATION.md).
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});
async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const s = createServer(handler);
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

describe('metadata/http (mutation)', () => {
  it('settings: defaults, and each bad option named with its rule', () => {
    expect(METADATA_HTTP_DEFAULTS).toEqual({ timeoutMs: 1000, maxRetries: 1, retryDelayMs: 100 });
    expect(metadataHttpSettings('p', {})).toEqual({ providerName: 'p', timeoutMs: 1000, maxRetries: 1, retryDelayMs: 100, agent: undefined });
    expect(metadataHttpSettings('p', { timeoutMs: 0.5, maxRetries: 0, retryDelayMs: 0 })).toMatchObject({ timeoutMs: 0.5, maxRetries: 0, retryDelayMs: 0 });
    const message = (o: Parameters<typeof metadataHttpSettings>[1]) => {
      try {
        metadataHttpSettings('p', o);
      } catch (e) {
        expect(e).toBeInstanceOf(MetadataConfigError);
        expect((e as MetadataConfigError).providerName).toBe('p');
        return `${(e as MetadataConfigError).setting}: ${(e as Error).message}`;
      }
      return 'ok';
    };
    expect(message({ timeoutMs: 0 })).toBe('timeoutMs: p: option timeoutMs must be a number > 0, got 0');
    expect(message({ timeoutMs: Infinity })).toBe('timeoutMs: p: option timeoutMs must be a number > 0, got Infinity');
    expect(message({ maxRetries: -1 })).toBe('maxRetries: p: option maxRetries must be an integer >= 0, got -1');
    expect(message({ maxRetries: 1.5 })).toBe('maxRetries: p: option maxRetries must be an integer >= 0, got 1.5');
    expect(message({ retryDelayMs: -1 })).toBe('retryDelayMs: p: option retryDelayMs must be a number >= 0, got -1');
    expect(message({ retryDelayMs: Number.NaN })).toBe('retryDelayMs: p: option retryDelayMs must be a number >= 0, got NaN');
  });

  it('unexpectedStatus: 5xx and 429 retryable, a hint after a colon', () => {
    const s = metadataHttpSettings('p', {});
    const call = { url: new URL('http://h/latest/x?q=1'), method: 'GET' as const };
    expect(describeCall(call)).toBe('GET /latest/x');
    const e = unexpectedStatus(s, call, 404);
    expect(e.message).toBe('p: GET /latest/x answered 404');
    expect(e).toMatchObject({ status: 404, retryable: false, request: 'GET /latest/x', providerName: 'p' });
    expect(unexpectedStatus(s, call, 401, 'token refused').message).toBe('p: GET /latest/x answered 401: token refused');
    expect(unexpectedStatus(s, call, 429).retryable).toBe(true);
    expect(unexpectedStatus(s, call, 500).retryable).toBe(true);
    expect(unexpectedStatus(s, call, 499).retryable).toBe(false);
    expect(unexpectedStatus(s, call, 430).retryable).toBe(false);
  });

  it('sendMetadataRequest: sends method and headers; no answer and a too-large body are named', async () => {
    const seen: string[] = [];
    const url = await serve((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers['x-t'] ?? '-'}`);
      if (req.url === '/big') res.end('x'.repeat(64 * 1024 + 1));
      else res.end('ok');
    });
    const s = metadataHttpSettings('p', { timeoutMs: 2000 });
    const response = await sendMetadataRequest(s, { url: new URL(`${url}/a`), method: 'PUT', headers: { 'x-t': '1' } });
    expect(response.status).toBe(200);
    expect(response.body).toBe('ok');
    await sendMetadataRequest(s, { url: new URL(`${url}/b`), method: 'GET' });
    expect(seen).toEqual(['PUT /a 1', 'GET /b -']);
    const big = (await sendMetadataRequest(s, { url: new URL(`${url}/big`), method: 'GET' }).catch((e: unknown) => e)) as MetadataResponseError;
    expect(big).toBeInstanceOf(MetadataResponseError);
    expect(big.message).toMatch(/^p: GET \/big: .+ \(the cap is 65536 bytes\)$/);
    expect(big.retryable).toBe(false);
    expect(transportFailureOf(big)?.kind).toBe('too-large');
    const closed = await serve((req) => req.socket.destroy());
    const none = (await sendMetadataRequest(s, { url: new URL(`${closed}/c`), method: 'GET' }).catch((e: unknown) => e)) as MetadataResponseError;
    expect(none.message).toMatch(/^p: GET \/c got no answer: .+/);
    expect(none).toMatchObject({ retryable: true, request: 'GET /c', providerName: 'p', status: undefined });
    expect(none.cause).toBeInstanceOf(HttpRequestError);
    expect(transportFailureOf(none)).toBe(none.cause);
  });

  it('transportFailureOf: only for a MetadataResponseError without status caused by an HttpRequestError', () => {
    const cause = new HttpRequestError('x', 'network', 'ECONNREFUSED');
    expect(transportFailureOf(new MetadataResponseError('m', { request: 'r', cause }))).toBe(cause);
    expect(transportFailureOf(new MetadataResponseError('m', { request: 'r', status: 500, cause }))).toBeUndefined();
    expect(transportFailureOf(new MetadataResponseError('m', { request: 'r', cause: new Error('x') }))).toBeUndefined();
    expect(transportFailureOf(cause)).toBeUndefined();
  });

  it('withMetadataRetries: retries retryable errors only, maxRetries times', async () => {
    const s = metadataHttpSettings('p', { maxRetries: 2, retryDelayMs: 1 });
    let n = 0;
    const retryable = () => new MetadataResponseError('r', { request: 'r', retryable: true });
    await expect(withMetadataRetries(s, async () => { n += 1; throw retryable(); })).rejects.toThrow('r');
    expect(n).toBe(3);
    n = 0;
    await expect(withMetadataRetries(s, async () => { n += 1; throw new MetadataResponseError('f', { request: 'r' }); })).rejects.toThrow('f');
    expect(n).toBe(1);
    n = 0;
    await expect(withMetadataRetries(s, async () => { n += 1; throw new Error('plain'); })).rejects.toThrow('plain');
    expect(n).toBe(1);
    n = 0;
    await expect(withMetadataRetries(s, async () => (++n < 2 ? Promise.reject(retryable()) : 'ok'))).resolves.toBe('ok');
  });

  it('withMetadataRetries: the delay doubles from retryDelayMs', async () => {
    const s = metadataHttpSettings('p', { maxRetries: 2, retryDelayMs: 100 });
    const times: number[] = [];
    await withMetadataRetries(s, async () => {
      times.push(Date.now());
      if (times.length < 3) throw new MetadataResponseError('r', { request: 'r', retryable: true });
      return 'ok';
    });
    // p-retry randomizes each delay to 1-2x: the first at least 100 ms, the second at least 200 ms.
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(95);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(195);
  });
});

describe('metadata/endpoint (mutation)', () => {
  const resolve = (i: Partial<Parameters<typeof resolveImdsEndpoint>[0]>) => resolveImdsEndpoint({ env: {}, profile: {}, ...i });
  const error = (i: Partial<Parameters<typeof resolveImdsEndpoint>[0]>) => {
    try {
      resolve(i);
    } catch (e) {
      expect(e).toBeInstanceOf(MetadataConfigError);
      return `${(e as MetadataConfigError).providerName} | ${(e as MetadataConfigError).setting} | ${(e as Error).message}`;
    }
    return 'no error';
  };

  it('names and addresses', () => {
    expect(IMDS_IPV4_ENDPOINT).toBe('http://169.254.169.254');
    expect(IMDS_IPV6_ENDPOINT).toBe('http://[fd00:ec2::254]');
    expect(IMDS_SETTINGS).toEqual({
      disabledEnv: 'AWS_EC2_METADATA_DISABLED',
      v1DisabledEnv: 'AWS_EC2_METADATA_V1_DISABLED',
      v1DisabledProfile: 'ec2_metadata_v1_disabled',
      endpointEnv: 'AWS_EC2_METADATA_SERVICE_ENDPOINT',
      endpointProfile: 'ec2_metadata_service_endpoint',
      modeEnv: 'AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE',
      modeProfile: 'ec2_metadata_service_endpoint_mode',
    });
  });

  it('endpoint precedence: option, environment, profile; blanks count as unset; path kept without trailing slashes', () => {
    const env = { AWS_EC2_METADATA_SERVICE_ENDPOINT: 'http://env:1/' };
    const profile = { ec2_metadata_service_endpoint: 'http://profile:2' };
    expect(resolve({ endpoint: ' http://opt:3/p/// ', env, profile })).toBe('http://opt:3/p');
    expect(resolve({ endpoint: '  ', env, profile })).toBe('http://env:1');
    expect(resolve({ env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: ' ' }, profile })).toBe('http://profile:2');
    expect(resolve({ profile: { ec2_metadata_service_endpoint: 'https://p:4/x' } })).toBe('https://p:4/x');
    expect(resolve({})).toBe(IMDS_IPV4_ENDPOINT);
  });

  it('mode precedence and values, any case', () => {
    expect(resolve({ mode: 'IPv6' })).toBe(IMDS_IPV6_ENDPOINT);
    expect(resolve({ mode: ' ipv4 ', env: { AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: 'IPv6' } })).toBe(IMDS_IPV4_ENDPOINT);
    expect(resolve({ mode: ' ', env: { AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: 'IPV6' } })).toBe(IMDS_IPV6_ENDPOINT);
    expect(resolve({ profile: { ec2_metadata_service_endpoint_mode: 'ipv6' } })).toBe(IMDS_IPV6_ENDPOINT);
    expect(resolve({ env: { AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: 'IPv4' }, profile: { ec2_metadata_service_endpoint_mode: 'ipv6' } })).toBe(IMDS_IPV4_ENDPOINT);
    // An endpoint beats any mode.
    expect(resolve({ endpoint: 'http://e', mode: 'IPv6' })).toBe('http://e');
  });

  it('bad settings are named, with the provider', () => {
    expect(error({ mode: 'IPv5' })).toBe('instance-metadata | option endpointMode | instance-metadata: option endpointMode: `IPv5` is not a valid endpoint mode (use IPv4 or IPv6)');
    expect(error({ env: { AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: 'x' }, providerName: 'q' })).toBe(
      'q | AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE | q: AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: `x` is not a valid endpoint mode (use IPv4 or IPv6)',
    );
    expect(error({ profile: { ec2_metadata_service_endpoint_mode: 'y' } })).toContain('| profile setting ec2_metadata_service_endpoint_mode |');
    expect(error({ endpoint: 'not a url' })).toBe('instance-metadata | option endpoint | instance-metadata: option endpoint: `not a url` is not a valid URI (e.g. http://169.254.169.254)');
    expect(error({ env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: 'ftp://h' } })).toBe(
      'instance-metadata | AWS_EC2_METADATA_SERVICE_ENDPOINT | instance-metadata: AWS_EC2_METADATA_SERVICE_ENDPOINT: `ftp://h` must be an http:// or https:// URI',
    );
    expect(error({ profile: { ec2_metadata_service_endpoint: 'http://h/?q=1' } })).toBe(
      'instance-metadata | profile setting ec2_metadata_service_endpoint | instance-metadata: profile setting ec2_metadata_service_endpoint: `http://h…` must not carry credentials, a query or a fragment',
    );
    expect(error({ endpoint: 'http://h/#f' })).toContain('must not carry');
    expect(error({ endpoint: 'http://u@h/' })).toContain('must not carry');
    expect(error({ endpoint: 'http://:p@h/' })).toContain('must not carry');
    expect(error({ endpoint: 'user:pw@h' })).not.toContain('pw');
  });

  it('settingValue, booleanSetting, loadProfileSettings', async () => {
    expect(settingValue({ a: ' x ' }, 'a')).toBe('x');
    expect(settingValue({ a: '  ' }, 'a')).toBeUndefined();
    expect(settingValue({}, 'a')).toBeUndefined();
    expect(booleanSetting([['a', undefined], ['b', 'maybe'], ['c', ' TRUE '], ['d', 'false']])).toEqual({ value: true, setting: 'c' });
    expect(booleanSetting([['a', ' False'], ['b', 'true']])).toEqual({ value: false, setting: 'a' });
    expect(booleanSetting([['a', false], ['b', 'true']])).toEqual({ value: false, setting: 'a' });
    expect(booleanSetting([['a', true]])).toEqual({ value: true, setting: 'a' });
    expect(booleanSetting([['a', 'yes']])).toBeUndefined();
    expect(booleanSetting([])).toBeUndefined();
    expect(await loadProfileSettings(undefined)).toEqual({});
    expect(await loadProfileSettings({ a: 'b' })).toEqual({ a: 'b' });
    expect(await loadProfileSettings(() => ({ c: 'd' }))).toEqual({ c: 'd' });
    expect(await loadProfileSettings(async () => ({ e: 'f' }))).toEqual({ e: 'f' });
  });
});
