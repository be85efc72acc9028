import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSharedConfig, clearSharedConfigCache } from '../../src/config/files.js';
import { ConfigFileError } from '../../src/config/errors.js';
import { runCli } from '../helpers/built-cli.js';
import { canary, SecretProbe } from '../helpers/secrets-probe.js';
import { runLibraryChild } from './helpers/bad-input-child.js';

/**
 * Files that are not files (issue 18): FIFOs, devices, huge files, in every place credchain reads
 * one. Each case runs in a child process with a deadline, so a blocking open shows as a kill, not
 * as a hung test run; every output is searched for canary secrets.
 */

const dir = mkdtempSync(join(tmpdir(), 'credchain-badinput-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const probe = new SecretProbe();
const fifo = (name: string) => {
  const p = join(dir, name);
  execFileSync('mkfifo', [p]);
  return p;
};
const ROLE = 'arn:aws:iam::123456789012:role/r';
const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');

/** A script that awaits one provider call in the child and prints what happened as JSON. */
const script = (call: string) => `import * as lib from './lib.js';
const started = performance.now();
const ms = () => Math.round(performance.now() - started);
try {
  const r = await (${call});
  console.log(JSON.stringify({ ok: true, profile: r && r.profileName, ms: ms() }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, name: e.name, message: e.message, code: e.code, ms: ms() }));
}
`;

interface Outcome {
  ok: boolean;
  name?: string;
  message?: string;
  ms: number;
}

async function outcome(label: string, call: string, env: Record<string, string> = {}): Promise<Outcome> {
  const r = await runLibraryChild(script(call), env, 10_000);
  probe.text(`${label} stdout`, r.stdout);
  probe.text(`${label} stderr`, r.stderr);
  expect(r.killed, `${label}: the child hung until its deadline`).toBe(false);
  expect(r.code, `${label}: ${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout.trim()) as Outcome;
}

const tokenFile = (path: string) => `lib.fromTokenFile({ webIdentityTokenFile: ${JSON.stringify(path)}, roleArn: '${ROLE}', refresh: false, sts: { region: 'us-east-1', endpoint: 'http://127.0.0.1:9', maxRetries: 0 } })()`;
const ssoCache = (cacheDir: string) =>
  `lib.fromSso({ ssoStartUrl: 'https://d.awsapps.com/start', ssoRegion: 'us-east-1', ssoAccountId: '123456789012', ssoRoleName: 'R', ssoSession: 'corp', tokenCacheDir: ${JSON.stringify(cacheDir)}, endpoint: 'http://127.0.0.1:9' })()`;
const container = (path: string) =>
  `lib.fromContainerMetadata({ env: { AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://127.0.0.1:9/creds', AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: ${JSON.stringify(path)} } })()`;
const config = (path: string) => `lib.loadSharedConfig({ configFile: ${JSON.stringify(path)}, credentialsFile: '/nonexistent/credentials', env: {} })`;

/** The SSO cache dir whose token file (named after sso-session `corp`) is `make(path)`. */
function ssoDir(name: string, make: (path: string) => void): string {
  const d = join(dir, name);
  mkdirSync(d);
  make(join(d, `${sha1('corp')}.json`));
  return d;
}

describe('a FIFO is refused at once wherever a file is read', () => {
  it('as the web identity token file', async () => {
    const o = await outcome('token fifo', tokenFile(fifo('token.fifo')));
    expect(o).toMatchObject({ ok: false, name: 'WebIdentityTokenFileError' });
    expect(o.message).toMatch(/token\.fifo: it is a FIFO \(named pipe\), not a regular file/);
    expect(o.ms).toBeLessThan(2_000);
  });

  it('as the SSO token cache file', async () => {
    const d = ssoDir('sso-fifo', (p) => execFileSync('mkfifo', [p]));
    const o = await outcome('sso fifo', ssoCache(d));
    expect(o).toMatchObject({ ok: false, name: 'SsoTokenError' });
    expect(o.message).toContain('FIFO');
  });

  it('as AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE', async () => {
    const o = await outcome('container fifo', container(fifo('auth.fifo')));
    expect(o.ok).toBe(false);
    expect(o.message).toMatch(/auth\.fifo named by AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \(it is a FIFO/);
  });

  it('as AWS_CONFIG_FILE', async () => {
    const o = await outcome('config fifo', config(fifo('config.fifo')));
    expect(o).toMatchObject({ ok: false, name: 'ConfigFileError' });
    expect(o.message).toContain('FIFO');
  });
});

describe('devices', () => {
  it('/dev/zero as a token file is refused at once, with a reason', async () => {
    const o = await outcome('token zero', tokenFile('/dev/zero'));
    expect(o).toMatchObject({ ok: false, name: 'WebIdentityTokenFileError' });
    expect(o.message).toContain('/dev/zero: it is a character device that does not read as empty, not a regular file');
    expect(o.ms).toBeLessThan(500);
  });

  it('/dev/zero as the config file and the SSO cache is refused too', async () => {
    expect((await outcome('config zero', config('/dev/zero'))).message).toContain('character device');
    const d = ssoDir('sso-zero', (p) => execFileSync('ln', ['-s', '/dev/zero', p]));
    expect((await outcome('sso zero', ssoCache(d))).message).toContain('character device');
  });

  it('/dev/null as a token file is an empty token file', async () => {
    const o = await outcome('token null', tokenFile('/dev/null'));
    expect(o.message).toContain('/dev/null: it is empty');
  });

  it('AWS_CONFIG_FILE=/dev/null reads as an empty file (the AWS CLI idiom), in the library', async () => {
    clearSharedConfigCache();
    const config = await loadSharedConfig({ configFile: '/dev/null', credentialsFile: '/dev/null', env: {} });
    expect(config.profiles).toEqual({});
    expect(config.profile).toBeUndefined();
  });

  it('AWS_CONFIG_FILE=/dev/null in the CLI: the chain goes on to the environment', async () => {
    const secret = canary('SECRETKEY');
    const r = await runCli(['explain'], {
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
      AWS_SECRET_ACCESS_KEY: secret,
    });
    probe.text('cli /dev/null stdout', r.stdout);
    probe.text('cli /dev/null stderr', r.stderr);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const r2 = await runCli(['explain'], { AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_PROFILE: 'default' });
    expect(r2.stdout + r2.stderr).not.toContain('Could not read');
  });
});

describe('size caps', () => {
  it('a token file over 1 MiB is refused with the cap in the message, its content never quoted', async () => {
    const secret = canary('WEBIDTOKEN');
    const p = join(dir, 'huge-token');
    writeFileSync(p, secret.repeat(Math.ceil((1024 * 1024 + 10) / secret.length)));
    const o = await outcome('token huge', tokenFile(p));
    expect(o.message).toContain('huge-token: it is larger than 1 MiB');
  });

  it('an SSO cache file over 1 MiB too', async () => {
    const d = ssoDir('sso-huge', (p) => {
      writeFileSync(p, '{}');
      truncateSync(p, 2 * 1024 * 1024);
    });
    expect((await outcome('sso huge', ssoCache(d))).message).toContain('it is larger than 1 MiB');
  });

  it('a config file over 32 MiB (sparse: never read) is refused by name', async () => {
    const p = join(dir, 'huge-config');
    writeFileSync(p, '');
    truncateSync(p, 33 * 1024 * 1024);
    clearSharedConfigCache();
    const error = await loadSharedConfig({ configFile: p, credentialsFile: '/nonexistent', env: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigFileError);
    expect((error as Error).message).toBe(`Could not read ${p}: it is larger than 32 MiB, more than such a file ever holds`);
  });
});

describe('no canary in any output', () => {
  it('of the cases above', () => {
    expect(probe.counts.outputs).toBeGreaterThan(10);
    expect(probe.leaks()).toEqual([]);
  });
});
