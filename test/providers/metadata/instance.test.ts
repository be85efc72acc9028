import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { CredentialsError, CredentialsNotFound } from '../../../src/errors.js';
import { providerNameOf } from '../../../src/provider.js';
import { fromInstanceMetadata, regionFromInstanceMetadata, type InstanceMetadataOptions } from '../../../src/providers/metadata/instance.js';
import { MetadataConfigError, MetadataResponseError } from '../../../src/providers/metadata/errors.js';
import { createFakeClock } from '../../../src/testing/fake-clock.js';
import { IMDS_PATHS, startImdsServer, type ImdsServer, type ImdsServerOptions } from '../../../src/testing/imds-server.js';
import { rejection } from '../../helpers/rejection.js';

const ROLE = 'credchain-test-role';
const CREDS = IMDS_PATHS.credentials(ROLE);
const servers: ImdsServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function setup(serverOptions: ImdsServerOptions = {}, providerOptions: InstanceMetadataOptions = {}) {
  const clock = createFakeClock();
  const server = await startImdsServer({ now: clock.now, ...serverOptions });
  servers.push(server);
  const warnings: string[] = [];
  const lines: string[] = [];
  const logger = {
    warn: (...args: unknown[]) => warnings.push(args.map(String).join(' ')),
    debug: (...args: unknown[]) => lines.push(args.map(String).join(' ')),
  };
  const options: InstanceMetadataOptions = { endpoint: server.endpoint, env: {}, now: clock.now, retryDelayMs: 0, logger, ...providerOptions };
  return { clock, server, warnings, lines, options, provider: fromInstanceMetadata(options) };
}

describe('fromInstanceMetadata: IMDSv2 session', () => {
  it('asks for a token, the role and its credentials, then renews with ONE request', async () => {
    const { server, provider, clock } = await setup({ tokens: 'required' });
    expect(providerNameOf(provider)).toBe('instance-metadata');

    const first = await provider();
    expect(server.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      `PUT ${IMDS_PATHS.token} 200`,
      `GET ${IMDS_PATHS.roleList} 200`,
      `GET ${CREDS} 200`,
    ]);
    expect(server.requests[0]!.headers['x-aws-ec2-metadata-token-ttl-seconds']).toBe('21600');
    expect(typeof server.requests[1]!.headers['x-aws-ec2-metadata-token']).toBe('string');
    expect(first.accessKeyId).toBe('ASIAIMDS00000001');
    expect(first.secretAccessKey).toBe('fake-secret-imds-00000001');
    expect(first.sessionToken).toBe('fake-session-token-imds-00000001');
    expect(first.expiration?.getTime()).toBe(clock.now() + 21_600_000);
    expect(inspect(first)).not.toContain('fake-secret');
    expect(JSON.stringify(first)).not.toContain('fake-session-token');

    server.resetLog();
    clock.advance(3 * 3600_000);
    const second = await provider();
    expect(second.accessKeyId).toBe('ASIAIMDS00000002');
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`GET ${CREDS}`]);
  });

  it('reuses the token until shortly before its TTL ends', async () => {
    const { server, provider, clock } = await setup({}, { tokenTtlSeconds: 100 });
    await provider();
    expect(server.requests[0]!.headers['x-aws-ec2-metadata-token-ttl-seconds']).toBe('100');
    clock.advance(85_000);
    await provider();
    expect(server.count({ method: 'PUT' })).toBe(1);
    clock.advance(10_000); // 95 s: inside the last tenth of the lifetime
    await provider();
    expect(server.count({ method: 'PUT' })).toBe(2);
    expect(server.count()).toBe(3 + 1 + 2);
  });

  it('fetches a new token after a 401 and retries the request once', async () => {
    const { server, provider } = await setup({ tokens: 'required' });
    await provider();
    server.expireTokens();
    server.resetLog();
    const creds = await provider();
    expect(creds.accessKeyId).toBe('ASIAIMDS00000002');
    expect(server.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      `GET ${CREDS} 401`,
      `PUT ${IMDS_PATHS.token} 200`,
      `GET ${CREDS} 200`,
    ]);
  });

  it('a token refused twice is a real error, not an endless loop', async () => {
    const { server, provider } = await setup();
    server.addFault({ path: CREDS, status: 401, times: Infinity });
    const error = await rejection(provider());
    expect(error).toBeInstanceOf(MetadataResponseError);
    expect(error).not.toBeInstanceOf(CredentialsNotFound);
    expect(error.message).toContain(`GET ${CREDS} answered 401`);
    expect(server.count({ path: CREDS })).toBe(2);
    expect(server.count({ method: 'PUT' })).toBe(2);
  });

  it('asks for the role name again only after a 404', async () => {
    const { server, provider } = await setup();
    await provider();
    await provider();
    expect(server.count({ path: IMDS_PATHS.roleList })).toBe(1);
    server.setRoleName('new-role');
    server.resetLog();
    const creds = await provider();
    expect(creds.accessKeyId).toMatch(/^ASIAIMDS/);
    expect(server.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      `GET ${CREDS} 404`,
      `GET ${IMDS_PATHS.roleList} 200`,
      `GET ${IMDS_PATHS.credentials('new-role')} 200`,
    ]);
  });

  it('no IAM role attached is not-found', async () => {
    const { server, provider } = await setup({ roleName: null });
    const error = await rejection(provider());
    expect(error).toBeInstanceOf(CredentialsNotFound);
    expect(error.message).toMatch(/no IAM role/);
    expect(server.count()).toBe(2);
  });

  it('concurrent first calls share one token request', async () => {
    const { server, provider } = await setup();
    const results = await Promise.all([provider(), provider(), provider()]);
    expect(results.every((c) => c.accessKeyId.startsWith('ASIAIMDS'))).toBe(true);
    expect(server.count({ method: 'PUT' })).toBe(1);
  });
});

describe('fromInstanceMetadata: IMDSv1 fallback', () => {
  for (const status of [403, 404, 405]) {
    it(`falls back to IMDSv1 when the token call answers ${status}, and stays there`, async () => {
      const { server, provider, lines } = await setup();
      server.addFault({ path: IMDS_PATHS.token, status, times: Infinity });
      const creds = await provider();
      expect(creds.accessKeyId).toBe('ASIAIMDS00000001');
      expect(server.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
        `PUT ${IMDS_PATHS.token} ${status}`,
        `GET ${IMDS_PATHS.roleList} 200`,
        `GET ${CREDS} 200`,
      ]);
      expect(server.requests.slice(1).every((r) => r.headers['x-aws-ec2-metadata-token'] === undefined)).toBe(true);
      expect(lines.some((l) => l.includes('falling back to IMDSv1'))).toBe(true);
      server.resetLog();
      await provider();
      expect(server.count()).toBe(1);
    });
  }

  const forbidders: Array<[string, InstanceMetadataOptions, string]> = [
    ['the option', { ec2MetadataV1Disabled: true }, 'option ec2MetadataV1Disabled'],
    ['AWS_EC2_METADATA_V1_DISABLED', { env: { AWS_EC2_METADATA_V1_DISABLED: 'TRUE' } }, 'AWS_EC2_METADATA_V1_DISABLED'],
    ['the profile', { profileSettings: async () => ({ ec2_metadata_v1_disabled: 'true' }) }, 'profile setting ec2_metadata_v1_disabled'],
  ];
  for (const [label, options, setting] of forbidders) {
    it(`no fallback when ${label} forbids it: a clear error, one request`, async () => {
      const { server, provider } = await setup({}, options);
      server.addFault({ path: IMDS_PATHS.token, status: 403, times: Infinity });
      const error = await rejection(provider());
      expect(error).toBeInstanceOf(MetadataResponseError);
      expect(error.message).toContain(`PUT ${IMDS_PATHS.token} answered 403`);
      expect(error.message).toContain(`disabled by ${setting}`);
      expect(server.count()).toBe(1);
    });
  }

  it('the option wins over the environment (false allows the fallback)', async () => {
    const { server, provider } = await setup({}, { ec2MetadataV1Disabled: false, env: { AWS_EC2_METADATA_V1_DISABLED: 'true' } });
    server.addFault({ path: IMDS_PATHS.token, status: 404, times: Infinity });
    await expect(provider()).resolves.toMatchObject({ accessKeyId: 'ASIAIMDS00000001' });
  });

  it('returns to IMDSv2 when an IMDSv1 request gets 401', async () => {
    const { server, provider } = await setup();
    server.addFault({ path: IMDS_PATHS.token, status: 405 });
    await provider();
    server.setTokens('required');
    server.resetLog();
    await provider();
    expect(server.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      `GET ${CREDS} 401`,
      `PUT ${IMDS_PATHS.token} 200`,
      `GET ${CREDS} 200`,
    ]);
  });

  it('a 400 on the token call is a real error (no fallback)', async () => {
    const { server, provider } = await setup();
    server.addFault({ path: IMDS_PATHS.token, status: 400 });
    const error = await rejection(provider());
    expect(error).toBeInstanceOf(MetadataResponseError);
    expect(error.message).toContain('answered 400');
    expect(server.count()).toBe(1);
  });
});

describe('fromInstanceMetadata: settings', () => {
  for (const value of ['true', 'TRUE', 'True', ' true ']) {
    it(`AWS_EC2_METADATA_DISABLED=${JSON.stringify(value)}: not-found, no request`, async () => {
      const { server, provider } = await setup({}, { env: { AWS_EC2_METADATA_DISABLED: value } });
      const error = await rejection(provider());
      expect(error).toBeInstanceOf(CredentialsNotFound);
      expect(error.message).toContain('AWS_EC2_METADATA_DISABLED');
      expect(server.count()).toBe(0);
      await expect(regionFromInstanceMetadata({ endpoint: server.endpoint, env: { AWS_EC2_METADATA_DISABLED: value } })).resolves.toBeUndefined();
      expect(server.count()).toBe(0);
    });
  }
  for (const value of ['false', 'FALSE', 'yes', '1', '']) {
    it(`AWS_EC2_METADATA_DISABLED=${JSON.stringify(value)} leaves IMDS on`, async () => {
      const { server, provider } = await setup({}, { env: { AWS_EC2_METADATA_DISABLED: value } });
      await expect(provider()).resolves.toMatchObject({ accessKeyId: 'ASIAIMDS00000001' });
      expect(server.count()).toBe(3);
    });
  }

  it('takes the endpoint from the environment, then from the profile', async () => {
    const { server, options } = await setup();
    const { endpoint, ...rest } = options;
    expect(endpoint).toBe(server.endpoint);
    await fromInstanceMetadata({ ...rest, env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: server.endpoint } })();
    await fromInstanceMetadata({ ...rest, profileSettings: { ec2_metadata_service_endpoint: `${server.endpoint}/` } })();
    expect(server.count({ method: 'PUT' })).toBe(2);
  });

  it('reports a bad endpoint mode as a config error naming the variable', async () => {
    const provider = fromInstanceMetadata({ env: { AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: 'IPv5' } });
    const error = await rejection(provider());
    expect(error).toBeInstanceOf(MetadataConfigError);
    expect(error.message).toContain('AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: `IPv5` is not a valid endpoint mode');
  });

  it('reads the profile once, and again after it failed', async () => {
    const { server, options } = await setup();
    let reads = 0;
    const provider = fromInstanceMetadata({
      ...options,
      endpoint: undefined,
      profileSettings: async () => {
        reads += 1;
        if (reads === 1) throw new CredentialsError('config: broken file');
        return { ec2_metadata_service_endpoint: server.endpoint };
      },
    });
    await expect(provider()).rejects.toThrow('config: broken file');
    await provider();
    await provider();
    expect(reads).toBe(2);
  });

  it('validates its options by name', () => {
    expect(() => fromInstanceMetadata({ tokenTtlSeconds: 0 })).toThrow(/tokenTtlSeconds must be an integer from 1 to 21600/);
    expect(() => fromInstanceMetadata({ tokenTtlSeconds: 21601 })).toThrow(MetadataConfigError);
    expect(() => fromInstanceMetadata({ timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => fromInstanceMetadata({ maxRetries: 1.5 })).toThrow(/maxRetries/);
    expect(() => fromInstanceMetadata({ offEc2MemoryMs: -1 })).toThrow(/offEc2MemoryMs/);
  });
});

describe('fromInstanceMetadata: retries and bad answers', () => {
  it('retries a 5xx once by default', async () => {
    const { server, provider } = await setup();
    server.addFault({ path: CREDS, status: 503 });
    await expect(provider()).resolves.toMatchObject({ accessKeyId: 'ASIAIMDS00000001' });
    expect(server.count({ path: CREDS })).toBe(2);
  });

  it('gives up after the retries with the path and the status', async () => {
    const { server, provider } = await setup({}, { maxRetries: 3 });
    server.addFault({ path: CREDS, status: 500, times: Infinity });
    const error = await rejection(provider());
    expect(error).toBeInstanceOf(MetadataResponseError);
    expect(error).not.toBeInstanceOf(CredentialsNotFound);
    expect(error).toMatchObject({ status: 500, request: `GET ${CREDS}`, retryable: true });
    expect(server.count({ path: CREDS })).toBe(4);
  });

  it('does not retry other 4xx answers', async () => {
    const { server, provider } = await setup();
    server.addFault({ path: IMDS_PATHS.roleList, status: 418 });
    const error = await rejection(provider());
    expect(error).toMatchObject({ status: 418, request: `GET ${IMDS_PATHS.roleList}` });
    expect(server.count({ path: IMDS_PATHS.roleList })).toBe(1);
  });

  it('a request that times out after the first contact is retried, then a real error', async () => {
    const { server, provider } = await setup({}, { timeoutMs: 150 });
    server.addFault({ path: CREDS, hang: true, times: Infinity });
    const started = Date.now();
    const error = await rejection(provider());
    expect(Date.now() - started).toBeLessThan(2000);
    expect(error).toBeInstanceOf(MetadataResponseError);
    expect(error).not.toBeInstanceOf(CredentialsNotFound);
    expect(error.message).toContain(`GET ${CREDS} got no answer`);
    expect(error.message).toContain('timed out after 150 ms');
    expect(server.count({ path: CREDS })).toBe(2);
  });

  const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY';
  const TOKEN = 'IQoJb3JpZ2luX2VjSESSIONTOKEN';
  const badBodies: Array<[string, string, RegExp]> = [
    ['malformed JSON', `{"Code":"Success","SecretAccessKey":"${SECRET}",`, /not JSON/],
    ['a JSON array', '[1,2]', /not an object/],
    ['Code other than Success', JSON.stringify({ Code: 'AssumeRoleUnauthorizedAccess', SecretAccessKey: SECRET }), /Code "AssumeRoleUnauthorizedAccess"/],
    ['missing fields', JSON.stringify({ Code: 'Success', AccessKeyId: 'ASIAX', SecretAccessKey: SECRET, Token: TOKEN }), /no usable Expiration/],
    [
      'an unparsable Expiration',
      JSON.stringify({ Code: 'Success', AccessKeyId: 'ASIAX', SecretAccessKey: SECRET, Token: TOKEN, Expiration: 'tomorrow' }),
      /Expiration that is not an ISO 8601 date-time: "tomorrow"/,
    ],
    ['a secret of the wrong type', JSON.stringify({ AccessKeyId: 'ASIAX', SecretAccessKey: 42, Token: TOKEN, Expiration: '2030-01-01T00:00:00Z' }), /no usable SecretAccessKey/],
  ];
  for (const [label, body, pattern] of badBodies) {
    it(`${label}: a real error with path and status, without the body's secrets`, async () => {
      const { server, provider, warnings, lines } = await setup();
      server.addFault({ path: CREDS, status: 200, body });
      const error = await rejection(provider());
      expect(error).toBeInstanceOf(MetadataResponseError);
      expect(error.message).toContain(`GET ${CREDS} answered 200`);
      expect(error.message).toMatch(pattern);
      const shown = [error.message, error.stack ?? '', inspect(error), JSON.stringify(error), ...warnings, ...lines].join('\n');
      expect(shown).not.toContain(SECRET);
      expect(shown).not.toContain(TOKEN);
      expect(server.count({ path: CREDS })).toBe(1); // bad answers are not retried
    });
  }

  it('garbage from the test server: real error', async () => {
    const { server, provider } = await setup();
    server.addFault({ path: CREDS, garbage: true });
    await expect(provider()).rejects.toThrow(MetadataResponseError);
  });

  it('a body over 64 KiB: real error, path and status in the message', async () => {
    const { server, provider } = await setup();
    server.addFault({ path: CREDS, oversizedBytes: 70 * 1024 });
    const error = await rejection(provider());
    expect(error).toBeInstanceOf(MetadataResponseError);
    expect(error.message).toContain(`GET ${CREDS}`);
    expect(error.message).toContain('answered 200 with a body over 65536 bytes');
  });

  it('a role name with path characters is refused', async () => {
    const { server, provider } = await setup();
    server.addFault({ path: IMDS_PATHS.roleList, status: 200, body: '../../latest/api/token' });
    await expect(provider()).rejects.toThrow(/not a role name/);
    expect(server.count()).toBe(2);
  });
});

describe('regionFromInstanceMetadata', () => {
  it('reads the placement region (token + one GET)', async () => {
    const { server, options } = await setup({ region: 'eu-west-3', tokens: 'required' });
    await expect(regionFromInstanceMetadata(options)).resolves.toBe('eu-west-3');
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`PUT ${IMDS_PATHS.token}`, `GET ${IMDS_PATHS.region}`]);
  });

  it('is undefined when the path is missing, an error when the answer is not a region', async () => {
    const { server, options } = await setup();
    server.addFault({ path: IMDS_PATHS.region, status: 404 });
    await expect(regionFromInstanceMetadata(options)).resolves.toBeUndefined();
    server.addFault({ path: IMDS_PATHS.region, status: 200, body: '<html>oops</html>' });
    await expect(regionFromInstanceMetadata(options)).rejects.toThrow(/not a region name/);
  });
});
