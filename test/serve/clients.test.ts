import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fromContainerMetadata, StsClient } from '../../src/index.js';
import { startStsServer, STS_SERVER_DEFAULT_USER as USER, type StsServer } from '../../src/testing/index.js';
import { makeAwsHome, type AwsHome } from '../helpers/aws-home.js';
import { buildCli, runCli } from '../helpers/built-cli.js';
import { SecretProbe } from '../helpers/secrets-probe.js';
import { spawnServe, type ServeChild } from './serve-cli.js';

/**
 * Real clients through one `credchain serve` (the built CLI, in a child process), each calling
 * GetCallerIdentity against the local STS with what the server hands out: the AWS SDK for
 * JavaScript (fromContainerMetadata and the node provider chain), botocore through the `aws` CLI
 * where installed, and credchain's own fromContainerMetadata. Loopback only.
 */

const root = fileURLToPath(new URL('../..', import.meta.url));
const ACCOUNT = '123456789012';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/deploy`;
const ROLE_ARN_RE = new RegExp(`^arn:aws:sts::${ACCOUNT}:assumed-role/deploy/`);

const awsCli = (() => {
  try {
    return execFileSync('aws', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 }).trim() || 'aws';
  } catch {
    return undefined;
  }
})();

let sts: StsServer;
let home: AwsHome;
let serve: ServeChild | undefined;
const probe = new SecretProbe();

beforeAll(async () => {
  await buildCli();
  sts = await startStsServer({ account: ACCOUNT });
  home = makeAwsHome({
    credentials: `[src]\naws_access_key_id = ${USER.accessKeyId}\naws_secret_access_key = ${USER.secretAccessKey}\n`,
    config: `[profile deploy]\nrole_arn = ${ROLE}\nsource_profile = src\nrole_session_name = serve-test\n`,
  });
}, 60_000);
afterEach(async () => {
  if (serve) {
    probe.text('serve stdout', serve.stdout());
    probe.text('serve stderr', serve.stderr());
    await serve.stop();
  }
  serve = undefined;
});
afterAll(async () => {
  await sts.close();
  home.remove();
});

/** Every secret of the run: the source key, each session the local STS issued, each server token. */
const tokens: string[] = [];
const secrets = () => [USER.secretAccessKey, ...sts.issued.flatMap((c) => [c.secretAccessKey, c.sessionToken]), ...tokens];

const serveEnv = () => ({ HOME: home.home, AWS_ENDPOINT_URL_STS: sts.url, AWS_REGION: 'us-east-1' });

/** `node --input-type=module -e code` in the project (so the SDK resolves), with exactly `env`. */
function nodeScript(code: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', code],
      { cwd: root, env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent-home', AWS_EC2_METADATA_DISABLED: 'true', ...env }, timeout: 30_000 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

const SDK_CALLER = (credentials: string) => `
import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { fromContainerMetadata, fromNodeProviderChain } from '@aws-sdk/credential-providers';
const client = new STSClient({ region: 'us-east-1', endpoint: process.env.STS_URL, credentials: ${credentials} });
const first = await client.send(new GetCallerIdentityCommand({}));
const second = await client.send(new GetCallerIdentityCommand({}));
console.log(JSON.stringify({ arn: first.Arn, again: second.Arn, envKey: process.env.AWS_ACCESS_KEY_ID ?? null }));
`;

describe('credchain serve: real clients', () => {
  it('the JS SDK (fromContainerMetadata, the node provider chain) and credchain each get working credentials from one server; nothing secret printed', async () => {
    serve = await spawnServe(['--profile', 'deploy', 'serve'], serveEnv());
    expect(serve.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/credentials$/);
    expect(statSync(serve.tokenFile).mode & 0o777).toBe(0o600);
    const token = readFileSync(serve.tokenFile, 'utf8');
    tokens.push(token);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 random bytes, no newline (botocore refuses one)
    const containerEnv = { AWS_CONTAINER_CREDENTIALS_FULL_URI: serve.url, STS_URL: sts.url };

    // @aws-sdk/credential-providers fromContainerMetadata: AWS_CONTAINER_AUTHORIZATION_TOKEN only.
    const viaContainer = await nodeScript(SDK_CALLER('fromContainerMetadata()'), { ...containerEnv, AWS_CONTAINER_AUTHORIZATION_TOKEN: token });
    expect(viaContainer.code, viaContainer.stderr).toBe(0);
    expect(JSON.parse(viaContainer.stdout).arn).toMatch(ROLE_ARN_RE);

    // The node provider chain (fromHttp) with the token file.
    const viaChain = await nodeScript(SDK_CALLER('fromNodeProviderChain()'), { ...containerEnv, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: serve.tokenFile });
    expect(viaChain.code, viaChain.stderr).toBe(0);
    expect(JSON.parse(viaChain.stdout).arn).toMatch(ROLE_ARN_RE);

    // credchain's own provider.
    const ours = fromContainerMetadata({ env: { AWS_CONTAINER_CREDENTIALS_FULL_URI: serve.url, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: serve.tokenFile } });
    const identity = await new StsClient({ credentials: ours, endpoint: sts.url, region: 'us-east-1' }).getCallerIdentity();
    expect(identity.arn).toMatch(ROLE_ARN_RE);

    expect(sts.counts.AssumeRole).toBe(1); // one session for every client
    for (const out of [viaContainer, viaChain]) probe.text('client output', out.stdout + out.stderr);
    expect(probe.leaks(secrets())).toEqual([]);
  }, 60_000);

  it.skipIf(!awsCli)(`botocore through the aws CLI (${awsCli ?? 'not installed: skipped'})`, async () => {
    serve = await spawnServe(['--profile', 'deploy', 'serve'], serveEnv());
    tokens.push(readFileSync(serve.tokenFile, 'utf8'));
    const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        'aws',
        ['sts', 'get-caller-identity', '--endpoint-url', sts.url, '--output', 'json'],
        {
          env: {
            PATH: process.env.PATH ?? '',
            HOME: '/nonexistent-home',
            AWS_EC2_METADATA_DISABLED: 'true',
            AWS_DEFAULT_REGION: 'us-east-1',
            AWS_CONTAINER_CREDENTIALS_FULL_URI: serve!.url,
            AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: serve!.tokenFile,
          },
          timeout: 60_000,
        },
        (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
      );
    });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).Arn).toMatch(ROLE_ARN_RE);
    probe.text('aws output', result.stdout + result.stderr);
    expect(probe.leaks(secrets())).toEqual([]);
  }, 90_000);

  it('stops gracefully on SIGTERM (exit 0) and removes the token it generated', async () => {
    const s = await spawnServe(['--profile', 'deploy', 'serve'], serveEnv());
    tokens.push(readFileSync(s.tokenFile, 'utf8'));
    const code = await s.stop();
    expect(code, s.stderr()).toBe(0);
    expect(existsSync(s.tokenFile)).toBe(false);
    expect(s.stderr()).toMatch(/SIGTERM received, stopping/);
    probe.text('serve stderr', s.stderr() + s.stdout());
    expect(probe.leaks(secrets())).toEqual([]);
  }, 60_000);

  it('--token-file: an existing token is used, a missing file is created with mode 0600 and kept', async () => {
    const existing = home.write('token-existing', 'an-existing-token-of-enough-length');
    serve = await spawnServe(['--profile', 'deploy', 'serve', '--token-file', existing], serveEnv());
    const ok = await fetch(serve.url, { headers: { authorization: 'an-existing-token-of-enough-length' } });
    expect(ok.status).toBe(200);
    await ok.text();
    await serve.stop();
    const fresh = join(home.home, 'token-new');
    serve = await spawnServe(['--profile', 'deploy', 'serve', '--token-file', fresh], serveEnv());
    expect(serve.tokenFile).toBe(fresh);
    expect(statSync(fresh).mode & 0o777).toBe(0o600);
    tokens.push(readFileSync(fresh, 'utf8'));
    await serve.stop();
    expect(existsSync(fresh)).toBe(true);
    writeFileSync(join(home.home, 'token-short'), 'short');
    const short = await runCli(['--profile', 'deploy', 'serve', '--token-file', join(home.home, 'token-short')], serveEnv());
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(/shorter than 16 characters/);
  }, 60_000);

  it('refuses a non-loopback --host without --allow-remote, and bad flags, with usage errors', async () => {
    const remote = await runCli(['serve', '--host', '0.0.0.0'], { ...serveEnv(), AWS_PROFILE: 'deploy' });
    expect(remote.code).toBe(2);
    expect(remote.stderr).toMatch(/not a loopback address: add --allow-remote/);
    expect((await runCli(['serve', '--port', 'abc'], serveEnv())).code).toBe(2);
    expect((await runCli(['serve', '--bogus'], serveEnv())).code).toBe(2);
  }, 60_000);

  it('a chain that resolves nothing stops serve before it listens (exit 1, nothing on stdout)', async () => {
    const r = await runCli(['serve'], {});
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/no credentials found/);
  }, 60_000);
});

describe('credchain exec --server', () => {
  it('runs the child with the container variables (no static keys); the SDK in it gets renewed credentials from the server', async () => {
    const child = SDK_CALLER('fromNodeProviderChain()').replace('process.env.STS_URL', JSON.stringify(sts.url));
    const before = sts.counts.AssumeRole ?? 0;
    const r = await runCli(
      ['--profile', 'deploy', 'exec', '--server', '--', process.execPath, '--input-type=module', '-e', child],
      { ...serveEnv(), AWS_ACCESS_KEY_ID: 'AKIASTALEKEY00000000', AWS_SECRET_ACCESS_KEY: 'stale-secret-canary', AWS_PROFILE: 'deploy' },
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out.arn).toMatch(ROLE_ARN_RE);
    expect(out.envKey).toBeNull();
    expect((sts.counts.AssumeRole ?? 0) - before).toBe(1);
    probe.text('exec --server output', r.stdout + r.stderr);
    expect(probe.leaks(secrets())).toEqual([]);
  }, 60_000);

  it('sets exactly the two container variables, and the token itself only with --token-env; exit code passes through', async () => {
    const show = `const e = process.env; console.log(JSON.stringify({ uri: e.AWS_CONTAINER_CREDENTIALS_FULL_URI, file: e.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE ?? null, token: e.AWS_CONTAINER_AUTHORIZATION_TOKEN ? 'set' : null, key: e.AWS_ACCESS_KEY_ID ?? null, rel: e.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI ?? null })); process.exit(7)`;
    const env = { ...serveEnv(), AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '/v2/stale' };
    const r = await runCli(['--profile', 'deploy', 'exec', '--server', '--', process.execPath, '-e', show], env);
    expect(r.code).toBe(7);
    const seen = JSON.parse(r.stdout);
    expect(seen).toMatchObject({ token: null, key: null, rel: null });
    expect(seen.uri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/credentials$/);
    expect(existsSync(seen.file)).toBe(false); // removed once the child exited
    const withEnv = await runCli(['--profile', 'deploy', 'exec', '--server', '--token-env', '--', process.execPath, '-e', show], env);
    expect(JSON.parse(withEnv.stdout)).toMatchObject({ file: null, token: 'set' });
  }, 60_000);

  it('warns when the [default] profile holds credentials, which the child SDK would try before the server', async () => {
    expect((await runCli(['--profile', 'deploy', 'exec', '--server', '--', process.execPath, '-e', '0'], serveEnv())).stderr).not.toMatch(/\[default\] profile/);
    const withDefault = makeAwsHome({
      credentials: `[default]\naws_access_key_id = AKIADEFAULT000000000\naws_secret_access_key = default-secret-canary\n[src]\naws_access_key_id = ${USER.accessKeyId}\naws_secret_access_key = ${USER.secretAccessKey}\n`,
      config: `[profile deploy]\nrole_arn = ${ROLE}\nsource_profile = src\n`,
    });
    try {
      const r = await runCli(['--profile', 'deploy', 'exec', '--server', '--', process.execPath, '-e', '0'], { ...serveEnv(), HOME: withDefault.home });
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/the \[default\] profile of the shared files sets aws_access_key_id; the command's AWS SDK tries that profile before/);
      probe.text('exec --server warning', r.stderr);
      expect(probe.leaks(secrets())).toEqual([]);
    } finally {
      withDefault.remove();
    }
  }, 60_000);
});
