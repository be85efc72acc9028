import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCli, runCli } from './helpers/built-cli.js';

const KEYS = { AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE', AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };

describe('the built CLI', () => {
  it('prints help with exit code 0', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: credchain');
    expect(r.stdout).toContain('export');
  });

  it('prints per-command help', async () => {
    const r = await runCli(['export', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--format env|env-no-export|fish|powershell|windows-cmd|json|process');
  });

  it('exits 2 on usage errors', async () => {
    expect((await runCli(['nonsense'])).code).toBe(2);
    expect((await runCli([])).code).toBe(2);
    const badFormat = await runCli(['export', '--format', 'yaml'], KEYS);
    expect(badFormat.code).toBe(2);
    expect(badFormat.stderr).toContain('unknown --format "yaml"');
  });

  it('exports env lines that a shell can eval', async () => {
    const r = await runCli(['export'], { ...KEYS, AWS_SESSION_TOKEN: "to'ken" });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      `export AWS_ACCESS_KEY_ID='AKIAIOSFODNN7EXAMPLE'\nexport AWS_SECRET_ACCESS_KEY='wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'\nexport AWS_SESSION_TOKEN='to'\\''ken'\n` +
        'unset AWS_CREDENTIAL_EXPIRATION\nunset AWS_ACCOUNT_ID\nunset AWS_SECURITY_TOKEN\n',
    );
  });

  it('env exports, eval-ed in a shell holding an older session, leave no stale token, expiration or account', async () => {
    const exported = (await runCli(['export'], KEYS)).stdout;
    const shell = await new Promise<string>((resolve, reject) => {
      const sh = spawn('sh', ['-c', 'eval "$(cat)"; echo "$AWS_ACCESS_KEY_ID ${AWS_SESSION_TOKEN-none} ${AWS_CREDENTIAL_EXPIRATION-none} ${AWS_ACCOUNT_ID-none}"'], {
        env: { PATH: process.env.PATH ?? '', AWS_SESSION_TOKEN: 'stale-token', AWS_CREDENTIAL_EXPIRATION: '2020-01-01T00:00:00Z', AWS_ACCOUNT_ID: '999999999999' },
      });
      let out = '';
      sh.stdout.on('data', (d) => (out += d));
      sh.on('error', reject).on('exit', () => resolve(out));
      sh.stdin.end(exported);
    });
    expect(shell).toBe(`${KEYS.AWS_ACCESS_KEY_ID} none none none\n`);
  });

  it('exports json and credential_process JSON', async () => {
    const env = { ...KEYS, AWS_SESSION_TOKEN: 'tok', AWS_CREDENTIAL_EXPIRATION: '2030-01-01T00:00:00Z' };
    const json = JSON.parse((await runCli(['export', '--format', 'json'], env)).stdout);
    expect(json).toEqual({ AccessKeyId: KEYS.AWS_ACCESS_KEY_ID, SecretAccessKey: KEYS.AWS_SECRET_ACCESS_KEY, SessionToken: 'tok', Expiration: '2030-01-01T00:00:00.000Z' });
    const proc = JSON.parse((await runCli(['export', '--format=process'], env)).stdout);
    expect(proc).toEqual({ Version: 1, ...json });
  });

  it('exits 1 with the chain explanation on stderr when nothing resolves', async () => {
    const r = await runCli(['export']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('no credentials found');
    expect(r.stderr).toContain('env: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set');
  });

  it('explain masks the key and never prints the secret', async () => {
    const r = await runCli(['explain', '--debug'], KEYS);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('****MPLE');
    expect(r.stdout + r.stderr).not.toContain(KEYS.AWS_SECRET_ACCESS_KEY);
  });
});

describe('credchain exec', () => {
  const script = `
    let input = '';
    process.stdin.on('data', (d) => (input += d)).on('end', () => {
      console.log(JSON.stringify({ id: process.env.AWS_ACCESS_KEY_ID, hasSecret: process.env.AWS_SECRET_ACCESS_KEY === ${JSON.stringify(KEYS.AWS_SECRET_ACCESS_KEY)}, token: process.env.AWS_SESSION_TOKEN ?? null, region: process.env.AWS_REGION, input }));
      console.error('to stderr');
      process.exit(7);
    });`;

  it('runs the command with the credentials and region, passing stdio through and its exit code back', async () => {
    const r = await runCli(['--region', 'eu-west-3', 'exec', '--', process.execPath, '-e', script], { ...KEYS }, 'hello');
    expect(r.code).toBe(7);
    expect(JSON.parse(r.stdout)).toEqual({ id: KEYS.AWS_ACCESS_KEY_ID, hasSecret: true, token: null, region: 'eu-west-3', input: 'hello' });
    expect(r.stderr).toBe('to stderr\n');
  });

  it('removes a stale AWS_ACCOUNT_ID (and token, expiration) when the credentials have none', async () => {
    const env = { ...KEYS, AWS_ACCOUNT_ID: '999999999999' };
    const show = 'console.log(JSON.stringify([process.env.AWS_ACCOUNT_ID ?? null, process.env.AWS_SESSION_TOKEN ?? null]))';
    const stale = await runCli(['exec', '--', process.execPath, '-e', show], { ...env, AWS_SESSION_TOKEN: 'stale' });
    // The env provider reads the token and account from the environment: both belong to these keys.
    expect(JSON.parse(stale.stdout)).toEqual(['999999999999', 'stale']);
    const home = mkdtempSync(join(tmpdir(), 'credchain-cli-'));
    try {
      writeFileSync(join(home, 'credentials'), `[p]\naws_access_key_id = ${KEYS.AWS_ACCESS_KEY_ID}\naws_secret_access_key = ${KEYS.AWS_SECRET_ACCESS_KEY}\n`);
      const r = await runCli(['--profile', 'p', 'exec', '--', process.execPath, '-e', show], {
        AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
        AWS_ACCOUNT_ID: '999999999999',
        AWS_SESSION_TOKEN: 'stale',
      });
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual([null, null]);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('runs `exec -- cmd --help`: a --help after -- belongs to the command, not to exec', async () => {
    const r = await runCli(['exec', '--', 'sh', '-c', 'echo "ran with $*"', 'sh', '--help'], { ...KEYS });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('ran with --help\n');
    // Before the --, it is still exec's own help.
    expect((await runCli(['exec', '--help', '--', 'true'], { ...KEYS })).stdout).toContain('credchain exec -- <command>');
  });

  it('reports death by signal as 128 + n', async () => {
    const r = await runCli(['exec', '--', process.execPath, '-e', 'process.kill(process.pid, "SIGTERM")'], { ...KEYS });
    expect(r.code).toBe(128 + 15);
  });

  it('forwards a signal sent to credchain to the command', async () => {
    const cli = await buildCli();
    const child = spawn(
      process.execPath,
      [cli, 'exec', '--', process.execPath, '-e', 'process.on("SIGTERM", () => { console.log("child got SIGTERM"); process.exit(5); }); console.log("ready"); setInterval(() => {}, 1000);'],
      { env: { PATH: process.env.PATH ?? '', ...KEYS }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    const code = await new Promise<number | null>((resolve) => {
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('ready') && !out.includes('got')) child.kill('SIGTERM');
      });
      child.on('exit', (c) => resolve(c));
    });
    expect(out).toContain('child got SIGTERM');
    expect(code).toBe(5);
  });

  /** A child that counts the SIGINTs it gets, says "ready", and exits 0 a while after the first. */
  const countSigints =
    'let n = 0; process.on("SIGINT", () => { n += 1; if (n === 1) setTimeout(() => { console.log(`child got ${n} SIGINT`); process.exit(0); }, 500); }); console.log("ready"); setInterval(() => {}, 1000);';

  it('without a terminal on stdin, a SIGINT sent to credchain (kill -INT <pid>) is forwarded to the command once', async () => {
    const cli = await buildCli();
    const child = spawn(process.execPath, [cli, 'exec', '--', process.execPath, '-e', countSigints], {
      env: { PATH: process.env.PATH ?? '', ...KEYS },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    const code = await new Promise<number | null>((resolve) => {
      child.stdout.on('data', (d) => {
        out += d;
        if (out === 'ready\n') child.kill('SIGINT');
      });
      child.on('exit', (c) => resolve(c));
    });
    child.stdin.end();
    expect(out).toBe('ready\nchild got 1 SIGINT\n');
    expect(code).toBe(0);
  });

  // `script` runs credchain on a pseudo-terminal: a Ctrl-C typed there reaches the whole foreground
  // process group, as in a real terminal, and must reach the command exactly once.
  const hasScript = spawnSync('script', ['--version']).status === 0;
  it.skipIf(!hasScript)('on a terminal, Ctrl-C reaches the command once (from the terminal), and credchain survives to report its exit code', async () => {
    const cli = await buildCli();
    const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
    const command = [process.execPath, cli, 'exec', '--', process.execPath, '-e', `${countSigints}`].map(quote).join(' ');
    // -e: script exits with credchain's exit code.
    const child = spawn('script', ['-qfec', `exec ${command}`, '/dev/null'], {
      env: { PATH: process.env.PATH ?? '', TERM: 'dumb', ...KEYS },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let sent = false;
    const code = await new Promise<number | null>((resolve) => {
      child.stdout.on('data', (d) => {
        out += d;
        if (!sent && out.includes('ready')) {
          sent = true;
          child.stdin.write('\x03');
        }
      });
      child.on('exit', (c) => resolve(c));
    });
    expect(out).toContain('child got 1 SIGINT');
    expect(code).toBe(0);
  });

  it('exits 127 for a command that does not exist and 2 without a command', async () => {
    expect((await runCli(['exec', '--', 'no-such-command-credchain'], { ...KEYS })).code).toBe(127);
    expect((await runCli(['exec'], { ...KEYS })).code).toBe(2);
  });
});

describe('credchain demo', () => {
  it('resolves a default chain and a two-hop role chain against local servers, masked, whatever the user environment', async () => {
    const r = await runCli(['demo'], { AWS_ACCESS_KEY_ID: 'AKIAUSERSOWNKEY00000', AWS_SECRET_ACCESS_KEY: 'users-own-secret', AWS_PROFILE: 'nope', AWS_EC2_METADATA_DISABLED: 'false' });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Credentials from instance-metadata');
    expect(r.stdout).toContain('skipped  env: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set');
    expect(r.stdout).toContain('100 concurrent calls -> 1 credentials object, 2 AssumeRole requests');
    expect(r.stdout).toMatch(/GetCallerIdentity with hop 2: arn:aws:sts::123456789012:assumed-role\/demo-hop-2\//);
    expect(r.stdout).toContain('STS:  total=3, AssumeRole=2, GetCallerIdentity=1');
    expect(r.stdout).not.toContain('users-own-secret');
    expect(r.stdout).not.toContain('AKIAUSERSOWNKEY');
    expect(r.stdout).not.toMatch(/wJalrXUtnFEMI/);
  });
});
