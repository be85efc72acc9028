import { execFile, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fromIni } from '../../src/providers/profile/index.js';
import { clearStsSessionCache } from '../../src/providers/sts/session-cache.js';
import { forgetDiskCacheState } from '../../src/cache/disk.js';
import { startStsServer, STS_SERVER_DEFAULT_USER as USER, type StsServer } from '../../src/testing/sts-server.js';
import { makeAwsHome, type AwsHome } from '../helpers/aws-home.js';
import { buildCli, runCli, type CliResult } from '../helpers/built-cli.js';

/**
 * The disk cache with real concurrent processes of the built CLI (`--cache`), and both directions of
 * sharing with the installed AWS CLI (v1 here; v1 and v2 share botocore's assume-role cache scheme in
 * ~/.aws/cli/cache). Skipped with a reason where `aws` is absent.
 */

const ACCOUNT = '123456789012';
const MFA_SERIAL = `arn:aws:iam::${ACCOUNT}:mfa/alice`;
const MFA_CODE = '161803';

let sts: StsServer;
let home: AwsHome;
let cli: string;

beforeAll(async () => {
  cli = await buildCli();
}, 60_000);
beforeEach(async () => {
  sts = await startStsServer({ account: ACCOUNT, mfaTokenCodes: { [MFA_SERIAL]: MFA_CODE } });
  home = makeAwsHome({
    credentials: `[src]\naws_access_key_id = ${USER.accessKeyId}\naws_secret_access_key = ${USER.secretAccessKey}\n`,
    config: [
      '[profile hop1]',
      `role_arn = arn:aws:iam::${ACCOUNT}:role/first`,
      'source_profile = src',
      '[profile hop2]',
      `role_arn = arn:aws:iam::${ACCOUNT}:role/second`,
      'source_profile = hop1',
      '[profile mfa]',
      `role_arn = arn:aws:iam::${ACCOUNT}:role/first`,
      'source_profile = src',
      `mfa_serial = ${MFA_SERIAL}`,
      '',
    ].join('\n'),
  });
});
afterEach(async () => {
  clearStsSessionCache();
  forgetDiskCacheState();
  await sts.close();
  home.remove();
});

const cacheDir = () => path.join(home.home, '.aws', 'cli', 'cache');
const env = () => ({ HOME: home.home, AWS_ENDPOINT_URL_STS: sts.url, AWS_REGION: 'us-east-1', AWS_DEFAULT_REGION: 'us-east-1' });
const secrets = () => [USER.secretAccessKey, ...sts.issued.flatMap((c) => [c.secretAccessKey, c.sessionToken])];

/** Starts the built CLI `count` times at once (stdin `input` for each). */
function together(count: number, args: string[], input?: string): Promise<CliResult[]> {
  return Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<CliResult>((resolve) => {
          const child = execFile(process.execPath, [cli, ...args], { env: { PATH: process.env.PATH ?? '', AWS_EC2_METADATA_DISABLED: 'true', ...env() }, timeout: 60_000 }, (error, stdout, stderr) =>
            resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
          );
          child.stdin?.end(input ?? '');
        }),
    ),
  );
}

describe('credchain --cache, real processes', () => {
  it('20 processes of `export --format process --cache` on a two-hop profile started together: 2 AssumeRole', async () => {
    const results = await together(20, ['--profile', 'hop2', '--cache', 'export', '--format', 'process']);
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    expect(new Set(results.map((r) => JSON.parse(r.stdout).AccessKeyId)).size).toBe(1);
    expect(sts.counts.AssumeRole).toBe(2);
    // And sequential runs within the session lifetime make none.
    for (let i = 0; i < 3; i += 1) expect((await runCli(['--cache', '--profile', 'hop2', 'export', '--format', 'process'], env())).code).toBe(0);
    expect(sts.counts.AssumeRole).toBe(2);
  }, 120_000);

  it('without --cache each process pays for itself', async () => {
    const results = await together(3, ['--profile', 'hop2', 'export', '--format', 'process']);
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    expect(sts.counts.AssumeRole).toBe(6);
  }, 60_000);

  it('an MFA profile: 10 processes together, the code is asked once', async () => {
    const results = await together(10, ['--profile', 'mfa', '--cache', 'export', '--format', 'json'], `${MFA_CODE}\n`);
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const prompted = results.filter((r) => r.stderr.includes(`Enter MFA code for ${MFA_SERIAL}`)).length;
    expect(prompted).toBe(1);
    expect(sts.counts.AssumeRole).toBe(1);
  }, 120_000);

  it('credchain cache list shows entries masked, clear removes them', async () => {
    expect((await runCli(['--cache', '--profile', 'hop2', 'export', '--format', 'process'], env())).code).toBe(0);
    const list = await runCli(['cache', 'list'], env());
    expect(list.code, list.stderr).toBe(0);
    const lines = list.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).toMatch(/^[0-9a-f]{40}\.json {2}credchain {2}\*{4}\w{4} {2}\d{4}-.*Z {2}valid$/);
    for (const s of secrets()) expect(list.stdout + list.stderr).not.toContain(s);
    const clear = await runCli(['cache', 'clear'], env());
    expect(clear.stdout).toContain('removed 2 session entries');
    expect((await runCli(['cache', 'list'], env())).stdout).toContain('no session entries');
    expect((await runCli(['cache', 'nope'], env())).code).toBe(2);
  }, 60_000);

  it('--debug says where the session came from, never a secret', async () => {
    await runCli(['--cache', '--profile', 'hop1', 'export', '--format', 'process'], env());
    const r = await runCli(['--cache', '--debug', '--profile', 'hop1', 'export', '--format', 'env'], env());
    expect(r.stderr).toMatch(/from the disk cache \(credchain entry [0-9a-f]{40}\.json\)/);
    for (const s of secrets()) expect(r.stderr).not.toContain(s);
  }, 60_000);
});

/** The installed AWS CLI (v1 or v2), or undefined. */
function findAws(): string | undefined {
  const probe = spawnSync('aws', ['--version'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
  return probe.status === 0 && /aws-cli\/[12]\./.test(`${probe.stdout}${probe.stderr}`) ? 'aws' : undefined;
}
const aws = findAws();
const awsEnv = () => ({ PATH: process.env.PATH ?? '', ...env(), AWS_EC2_METADATA_DISABLED: 'true', AWS_PAGER: '' });
/** Runs the AWS CLI without blocking the event loop (the local STS answers from this process). */
function runAws(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(aws!, args, { env: awsEnv(), timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ status: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    ),
  );
}

describe.skipIf(!aws)('sharing ~/.aws/cli/cache with the installed AWS CLI (skipped: no `aws` on PATH)', () => {
  it('the AWS CLI reuses the sessions credchain stored (both hops): no AssumeRole of its own', async () => {
    expect((await runCli(['--cache', '--profile', 'hop2', 'export', '--format', 'process'], env())).code).toBe(0);
    expect(sts.counts.AssumeRole).toBe(2);
    const r = await runAws(['sts', 'get-caller-identity', '--profile', 'hop2', '--output', 'json']);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).Arn).toContain('assumed-role/second/');
    expect(sts.counts.AssumeRole).toBe(2);
    expect(sts.counts.GetCallerIdentity).toBe(1);
  }, 120_000);

  it('credchain reads an entry the AWS CLI wrote only with trustAwsCliEntries; by default it is replaced', async () => {
    const r = await runAws(['sts', 'get-caller-identity', '--profile', 'hop1']);
    expect(r.status, r.stderr).toBe(0);
    expect(sts.counts.AssumeRole).toBe(1);
    const files = readdirSync(cacheDir()).filter((f) => f.endsWith('.json'));
    expect(files).toHaveLength(1);
    const cliEntry = JSON.parse(readFileSync(path.join(cacheDir(), files[0]!), 'utf8'));
    expect(cliEntry.CredchainSource).toBeUndefined();

    // Same file name (the AWS CLI's key scheme): with trust, credchain uses it as it is.
    const trusted = await fromIni({ profile: 'hop1', env: env(), diskCache: { trustAwsCliEntries: true } })();
    expect(trusted.accessKeyId).toBe(cliEntry.Credentials.AccessKeyId);
    expect(sts.counts.AssumeRole).toBe(1);

    clearStsSessionCache();
    forgetDiskCacheState();
    const own = await fromIni({ profile: 'hop1', env: env(), diskCache: true })();
    expect(own.accessKeyId).not.toBe(cliEntry.Credentials.AccessKeyId);
    expect(sts.counts.AssumeRole).toBe(2);
    expect(readdirSync(cacheDir()).filter((f) => f.endsWith('.json'))).toEqual(files);
    expect(JSON.parse(readFileSync(path.join(cacheDir(), files[0]!), 'utf8')).CredchainSource).toMatch(/^[0-9a-f]{64}$/);
  }, 120_000);
});
