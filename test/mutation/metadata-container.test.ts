import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CredentialsError, CredentialsNotFound } from '../../src/errors.js';
import { FileReadError } from '../../src/fs-read.js';
import { containerCredentialsUrl, fromContainerMetadata, isHttpAllowedHost, type ContainerMetadataOptions } from '../../src/providers/metadata/container.js';
import { MetadataConfigError, MetadataResponseError } from '../../src/providers/metadata/errors.js';
import { startContainerServer, type ContainerServer } from '../../src/testing/container-server.js';
import { createFakeClock, type FakeClock } from '../../src/testing/fake-clock.js';
import { rejection } from '../helpers/rejection.js';

// Tests added from the surviving mutants of `node bench/mutation.mjs metadata/container`.
const servers: ContainerServer[] = [];
let tmp: string | undefined;
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function tempPath(name: string): Promise<string> {
  tmp ??= await mkdtemp(path.join(os.tmpdir(), 'credchain-container-mut-'));
  return path.join(tmp, name);
}

async function server(): Promise<ContainerServer> {
  const s = await startContainerServer();
  servers.push(s);
  return s;
}

const provider = (s: ContainerServer, env: NodeJS.ProcessEnv = {}, options: ContainerMetadataOptions = {}) =>
  fromContainerMetadata({ env: { AWS_CONTAINER_CREDENTIALS_FULL_URI: s.url, ...env }, retryDelayMs: 0, random: () => 0, ...options });

/** Lets a background attempt (real loopback HTTP) finish. */
async function settle(isBusy: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && isBusy(); i++) await new Promise((r) => setTimeout(r, 2));
}

describe('metadata/container (mutation)', () => {
  it('plain http to any 127.0.0.0/8 address, written in full; not to a name that merely starts like one', () => {
    for (const uri of ['http://127.10.200.255/x', 'http://127.255.255.254:9/x', 'http://127.1.22.3/x']) {
      expect(containerCredentialsUrl({ AWS_CONTAINER_CREDENTIALS_FULL_URI: uri })?.url.href).toBe(uri);
    }
    expect(() => containerCredentialsUrl({ AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://127.0.0.1.nip.io/x' })).toThrow(MetadataConfigError);
    expect(isHttpAllowedHost('127.10.200.255')).toBe(true);
    expect(isHttpAllowedHost('127.0.0.1.example')).toBe(false);
    expect(isHttpAllowedHost('10.127.0.0.1')).toBe(false);
  });

  it('a refused full URI: the message lists what is allowed; the error names the variable', () => {
    let error: unknown;
    try {
      containerCredentialsUrl({ AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://192.0.2.7:8080/creds' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MetadataConfigError);
    expect(error).toMatchObject({
      providerName: 'container-metadata',
      setting: 'AWS_CONTAINER_CREDENTIALS_FULL_URI',
      message:
        'container-metadata: AWS_CONTAINER_CREDENTIALS_FULL_URI (http://192.0.2.7:8080) must use https, or http to a loopback address, ' +
        '169.254.170.2, 169.254.170.23 or [fd00:ec2::23]',
    });
    expect(() => containerCredentialsUrl({ AWS_CONTAINER_CREDENTIALS_FULL_URI: 'ftp://127.0.0.1/x' })).toThrow(
      'container-metadata: AWS_CONTAINER_CREDENTIALS_FULL_URI is not a valid http(s) URL',
    );
  });

  it('a bad relativeUriEndpoint option is refused at creation, by name', () => {
    for (const bad of ['not a url', 'ftp://169.254.170.2']) {
      let error: unknown;
      try {
        fromContainerMetadata({ relativeUriEndpoint: bad });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(MetadataConfigError);
      expect(error).toMatchObject({ setting: 'relativeUriEndpoint', message: 'container-metadata: relativeUriEndpoint is not a valid http(s) URL' });
    }
  });

  it('neither URI set: the not-found error carries the provider name', async () => {
    const error = await rejection(fromContainerMetadata({ env: {} })());
    expect(error).toBeInstanceOf(CredentialsNotFound);
    expect(error).toMatchObject({ providerName: 'container-metadata' });
  });

  it('token file problems: unreadable (named, with the reason and cause), empty, or with a line break; nothing sent', async () => {
    const s = await server();
    const dir = await tempPath('token-dir');
    await mkdir(dir, { recursive: true });
    const unreadable = await rejection(provider(s, { AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: dir })());
    expect(unreadable).toBeInstanceOf(CredentialsError);
    expect(unreadable).toMatchObject({
      providerName: 'container-metadata',
      message: `container-metadata: cannot read the authorization token file ${dir} named by AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (it is a directory (EISDIR))`,
    });
    expect(unreadable.cause).toBeInstanceOf(FileReadError);

    const blank = await tempPath('blank-token');
    await writeFile(blank, ' \n\t\n');
    const empty = await rejection(provider(s, { AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: blank, AWS_CONTAINER_AUTHORIZATION_TOKEN: 'not-used' })());
    expect(empty).toBeInstanceOf(MetadataConfigError);
    expect(empty).toMatchObject({
      setting: 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE',
      message: `container-metadata: the authorization token file ${blank} is empty`,
    });

    const split = await tempPath('split-token');
    await writeFile(split, 'first-half\nX-Injected: 1\n');
    const broken = await rejection(provider(s, { AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: split })());
    expect(broken).toBeInstanceOf(MetadataConfigError);
    expect(broken.message).toBe(
      `container-metadata: the authorization token from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (${split}) contains a line break or NUL`,
    );
    const nul = await rejection(provider(s, { AWS_CONTAINER_AUTHORIZATION_TOKEN: 'abc\0def' })());
    expect(nul.message).toBe('container-metadata: the authorization token from AWS_CONTAINER_AUTHORIZATION_TOKEN contains a line break or NUL');
    expect(nul.message).not.toContain('abc');
    expect(s.count()).toBe(0);
  });

  it('no token set: the request carries no Authorization header', async () => {
    const s = await server();
    await provider(s)();
    expect(s.requests.map((r) => r.headers.authorization)).toEqual([undefined]);
  });

  it('429 is retried like a 5xx; 403 means the token was refused (not retried)', async () => {
    const s = await server();
    s.addFault({ status: 429 });
    await expect(provider(s)()).resolves.toMatchObject({ accessKeyId: 'ASIACONT00000001' });
    expect(s.requests.map((r) => r.status)).toEqual([429, 200]);
    s.resetLog();
    s.addFault({ status: 403 });
    const refused = await rejection(provider(s)());
    expect(refused).toBeInstanceOf(MetadataResponseError);
    expect(refused.message).toBe(`container-metadata: GET ${s.path} answered 403: the endpoint refused the authorization token`);
    expect(s.count()).toBe(1);
  });

  it('background attempts share the process-wide budget per credentials URL, not across URLs', async () => {
    // A start time no other test uses, as the budget is process-wide.
    const clock = createFakeClock(Date.UTC(2031, 4, 5));
    const [s1, s2] = [await server(), await server()];
    const make = (s: ContainerServer, c: FakeClock) => provider(s, {}, { now: c.now });
    const a = make(s1, clock);
    const b = make(s1, clock);
    const c = make(s2, clock);
    for (const p of [a, b, c]) await p();
    for (const s of [s1, s2]) s.addFault({ status: 500, times: Infinity });
    for (const p of [a, b, c]) expect((await p()).expiration?.getTime()).toBe(clock.now() + 5_000);
    for (const s of [s1, s2]) s.resetLog();
    clock.advance(5_000);
    for (const p of [a, b, c]) await p();
    await settle(() => a.status().attempting || c.status().attempting);
    // a asked s1; b (same URL, due in the same millisecond) waits 5 s; c asks s2: one request each.
    expect([s1.count(), s2.count()]).toEqual([1, 1]);
    expect(a.status()).toMatchObject({ failures: 2, attempting: false });
    expect(b.status()).toMatchObject({ failures: 1, nextAttemptAt: new Date(clock.now() + 5_000) });
    expect(c.status()).toMatchObject({ failures: 2 });
  });
});
