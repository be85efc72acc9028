import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CredentialsError, CredentialsNotFound } from '../../../src/errors.js';
import { providerNameOf } from '../../../src/provider.js';
import { containerCredentialsUrl, fromContainerMetadata, isHttpAllowedHost, type ContainerMetadataOptions } from '../../../src/providers/metadata/container.js';
import { MetadataConfigError, MetadataResponseError } from '../../../src/providers/metadata/errors.js';
import { createFakeClock } from '../../../src/testing/fake-clock.js';
import { startContainerServer, type ContainerServer, type ContainerServerOptions } from '../../../src/testing/container-server.js';
import { rejection } from '../../helpers/rejection.js';

const MINUTE = 60_000;
const servers: ContainerServer[] = [];
let tmp: string | undefined;
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function tempFile(name: string, text: string): Promise<string> {
  tmp ??= await mkdtemp(path.join(os.tmpdir(), 'credchain-container-'));
  const file = path.join(tmp, name);
  await writeFile(file, text);
  return file;
}

async function setup(serverOptions: ContainerServerOptions = {}, env: NodeJS.ProcessEnv = {}, options: ContainerMetadataOptions = {}) {
  const clock = createFakeClock();
  const server = await startContainerServer({ now: clock.now, ...serverOptions });
  servers.push(server);
  const warnings: string[] = [];
  const provider = fromContainerMetadata({
    env: { AWS_CONTAINER_CREDENTIALS_FULL_URI: server.url, ...env },
    now: clock.now,
    random: () => 0,
    retryDelayMs: 0,
    logger: { warn: (...args: unknown[]) => warnings.push(args.map(String).join(' ')) },
    ...options,
  });
  return { clock, server, provider, warnings };
}

describe('fromContainerMetadata', () => {
  it('neither URI set: not-found, nothing sent', async () => {
    const provider = fromContainerMetadata({ env: { AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: ' ', AWS_CONTAINER_AUTHORIZATION_TOKEN: 'x' } });
    expect(providerNameOf(provider)).toBe('container-metadata');
    const error = await rejection(provider());
    expect(error).toBeInstanceOf(CredentialsNotFound);
    expect(error.message).toContain('AWS_CONTAINER_CREDENTIALS_RELATIVE_URI');
  });

  it('full URI with AWS_CONTAINER_AUTHORIZATION_TOKEN: one request per renewal, header checked', async () => {
    const { server, provider, clock } = await setup({ authorizationToken: 'Bearer abc' }, { AWS_CONTAINER_AUTHORIZATION_TOKEN: 'Bearer abc' });
    const first = await provider();
    expect(first).toMatchObject({ accessKeyId: 'ASIACONT00000001', sessionToken: 'fake-session-token-cont-00000001' });
    expect(first.expiration?.getTime()).toBe(clock.now() + 21_600_000);
    expect(inspect(first)).not.toContain('fake-secret');
    clock.advance(MINUTE);
    expect((await provider()).accessKeyId).toBe('ASIACONT00000002');
    expect(server.count()).toBe(2);
    expect(server.authorizedRequests).toBe(2);
  });

  it('without the option, the relative URI is resolved against ECS\'s address (checked without sending)', () => {
    expect(containerCredentialsUrl({ AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '/v2/x' })?.url.href).toBe('http://169.254.170.2/v2/x');
  });

  it('relative URI (base moved to the local server) wins over the full URI', async () => {
    const clock = createFakeClock();
    const server = await startContainerServer({ now: clock.now, path: '/v2/credentials/abc-123' });
    servers.push(server);
    const provider = fromContainerMetadata({
      env: { AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '/v2/credentials/abc-123', AWS_CONTAINER_CREDENTIALS_FULL_URI: 'https://192.0.2.1/never' },
      relativeUriEndpoint: server.endpoint,
      now: clock.now,
    });
    await expect(provider()).resolves.toMatchObject({ accessKeyId: 'ASIACONT00000001' });
    expect(server.requests.map((r) => r.path)).toEqual(['/v2/credentials/abc-123']);
  });

  it('a relative URI cannot leave the ECS host', () => {
    for (const relative of ['//evil.example/creds', '@evil.example/creds', '/..//evil.example/x']) {
      expect(containerCredentialsUrl({ AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: relative })?.url.host).toBe('169.254.170.2');
    }
    expect(containerCredentialsUrl({ AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: 'v2/x' })?.url.href).toBe('http://169.254.170.2/v2/x');
  });

  it('the token file wins over the variable and is read on every renewal', async () => {
    const file = await tempFile('eks-token', 'token-one\n');
    const { server, provider } = await setup(
      { authorizationToken: 'token-one' },
      { AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: file, AWS_CONTAINER_AUTHORIZATION_TOKEN: 'from-the-variable' },
    );
    await expect(provider()).resolves.toMatchObject({ accessKeyId: 'ASIACONT00000001' });
    await writeFile(file, 'token-two');
    server.setAuthorizationToken('token-two');
    await expect(provider()).resolves.toMatchObject({ accessKeyId: 'ASIACONT00000002' });
    expect(server.authorizedRequests).toBe(2);
  });

  it('an unreadable token file is a real error naming it; nothing is sent', async () => {
    const missing = path.join(os.tmpdir(), 'credchain-no-such-token-file');
    const { server, provider } = await setup({}, { AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: missing });
    const error = await rejection(provider());
    expect(error).toBeInstanceOf(CredentialsError);
    expect(error).not.toBeInstanceOf(CredentialsNotFound);
    expect(error.message).toContain(missing);
    expect(error.message).toContain('ENOENT');
    expect(server.count()).toBe(0);
  });

  it('a token with a line break inside is refused before sending', async () => {
    const { server, provider } = await setup({}, { AWS_CONTAINER_AUTHORIZATION_TOKEN: 'abc\r\nX-Injected: 1' });
    const error = await rejection(provider());
    expect(error).toBeInstanceOf(MetadataConfigError);
    expect(error.message).not.toContain('abc');
    expect(server.count()).toBe(0);
  });

  it('a refused token: real error with status, not retried', async () => {
    const { server, provider } = await setup({ authorizationToken: 'right' }, { AWS_CONTAINER_AUTHORIZATION_TOKEN: 'wrong' });
    const error = await rejection(provider());
    expect(error).toBeInstanceOf(MetadataResponseError);
    expect(error).toMatchObject({ status: 401, request: `GET ${server.path}` });
    expect(error.message).toContain('refused the authorization token');
    expect(error.message).not.toContain('wrong');
    expect(server.count()).toBe(1);
  });

  it('same response rules: 5xx retried once', async () => {
    const { server, provider } = await setup();
    server.addFault({ status: 502 });
    await expect(provider()).resolves.toMatchObject({ accessKeyId: 'ASIACONT00000001' });
    expect(server.count()).toBe(2);
  });

  const bad: Array<[string, { garbage?: boolean; status?: number; body?: string; oversizedBytes?: number }, RegExp]> = [
    ['garbage', { garbage: true }, /answered 200 with a body that is not JSON/],
    ['missing fields', { status: 200, body: JSON.stringify({ AccessKeyId: 'A', SecretAccessKey: 'S3CR3T-VALUE', Token: 'T' }) }, /no usable Expiration/],
    ['a Code other than Success', { status: 200, body: JSON.stringify({ Code: 'Failure', SecretAccessKey: 'S3CR3T-VALUE' }) }, /Code "Failure"/],
    ['a 404', { status: 404, body: '{"SecretAccessKey":"S3CR3T-VALUE"}' }, /answered 404: from AWS_CONTAINER_CREDENTIALS_FULL_URI/],
  ];
  for (const [label, fault, pattern] of bad) {
    it(`${label}: a real error with path and status, body not shown`, async () => {
      const { server, provider } = await setup();
      server.addFault(fault);
      const error = await rejection(provider());
      expect(error).toBeInstanceOf(MetadataResponseError);
      expect(error.message).toContain(`GET ${server.path}`);
      expect(error.message).toMatch(pattern);
      expect(`${error.message}${inspect(error)}${JSON.stringify(error)}`).not.toContain('S3CR3T-VALUE');
      expect(server.count()).toBe(1);
    });
  }

  it('EKS-style answers with AccountId keep it', async () => {
    const { provider } = await setup({
      credentials: { accessKeyId: 'ASIAEKS', secretAccessKey: 's', sessionToken: 't', accountId: '123456789012' },
    });
    await expect(provider()).resolves.toMatchObject({ accountId: '123456789012' });
  });

  it('static stability after a success', async () => {
    const { clock, server, provider, warnings } = await setup({ credentialsLifetimeSeconds: 60 });
    const first = await provider();
    server.addFault({ status: 500, times: Infinity });
    clock.advance(2 * MINUTE);
    const held = await provider();
    expect(held.accessKeyId).toBe(first.accessKeyId);
    expect(held.expiration?.getTime()).toBe(clock.now() + 5_000); // the next background attempt
    expect(warnings[0]).toContain('container-metadata: renewing credentials failed');
    server.resetLog();
    await provider();
    expect(server.count()).toBe(0);
  });

  it('reuses its keep-alive connection across failing renewals (no socket leak)', async () => {
    const { server, provider } = await setup();
    await provider();
    server.addFault({ status: 500, times: Infinity });
    for (let i = 0; i < 20; i++) {
      provider.invalidate(); // skip the static-stability pause so each call really renews
      await provider();
    }
    expect(server.count()).toBe(1 + 20 * 2);
    expect(server.connections).toBe(1);
    expect(server.openConnections).toBe(1);
  });

  it('timeouts close their sockets instead of piling them up', async () => {
    const { server, provider } = await setup({}, {}, { timeoutMs: 50 });
    await provider();
    server.addFault({ hang: true, times: Infinity });
    for (let i = 0; i < 10; i++) {
      provider.invalidate();
      await provider();
    }
    expect(server.count()).toBe(1 + 10 * 2);
    for (let i = 0; i < 50 && server.openConnections > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(server.openConnections).toBe(0);
  });
});

describe('full URI rules', () => {
  const allowed = [
    'http://127.0.0.1:8080/creds',
    'http://127.3.2.1/creds',
    'http://[::1]:80/creds',
    'http://169.254.170.2/v1/credentials',
    'http://169.254.170.23/v1/credentials',
    'http://[fd00:ec2::23]/v1/credentials',
    'https://creds.example.com/v1',
    'http://localhost/creds',
    'http://LocalHost:8080/x',
  ];
  for (const uri of allowed) {
    it(`allows ${uri}`, () => {
      expect(containerCredentialsUrl({ AWS_CONTAINER_CREDENTIALS_FULL_URI: uri })?.url.href).toBe(new URL(uri).href);
    });
  }
  const refused = ['http://169.254.169.254/latest', 'http://192.0.2.1/creds', 'http://128.0.0.1/creds', 'http://localhost.example.com/x', 'http://localhost./x', 'ftp://127.0.0.1/x', 'not a url'];
  for (const uri of refused) {
    it(`refuses ${uri} with a real error and sends nothing`, async () => {
      expect(() => containerCredentialsUrl({ AWS_CONTAINER_CREDENTIALS_FULL_URI: uri })).toThrow(MetadataConfigError);
      // Through the provider only for addresses that lead nowhere, in case the check ever broke.
      if (uri.includes('169.254.')) return;
      const error = await rejection(fromContainerMetadata({ env: { AWS_CONTAINER_CREDENTIALS_FULL_URI: uri }, timeoutMs: 50, maxRetries: 0 })());
      expect(error).toBeInstanceOf(MetadataConfigError);
      expect(error.message).toContain('AWS_CONTAINER_CREDENTIALS_FULL_URI');
    });
  }
  it('http://localhost:<port> (Greengrass) resolves credentials from a loopback server', async () => {
    const { server, clock } = await setup();
    const url = new URL(server.url);
    url.hostname = 'localhost';
    const viaName = fromContainerMetadata({ env: { AWS_CONTAINER_CREDENTIALS_FULL_URI: url.href }, retryDelayMs: 0, now: clock.now });
    expect((await viaName()).accessKeyId).toBe('ASIACONT00000001');
    expect(server.count()).toBe(1);
  });
  it('isHttpAllowedHost', () => {
    expect(isHttpAllowedHost('127.0.0.1')).toBe(true);
    expect(isHttpAllowedHost('[FD00:EC2::23]')).toBe(true);
    // Loopback IP literals and the one name botocore and the JS SDK allow; no other name.
    expect(isHttpAllowedHost('localhost')).toBe(true);
    expect(isHttpAllowedHost('LOCALHOST')).toBe(true);
    expect(isHttpAllowedHost('localhost.example.com')).toBe(false);
    expect(isHttpAllowedHost('127.example')).toBe(false);
  });
});
