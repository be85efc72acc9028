import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import packageJson from '../package.json' with { type: 'json' };
import { chain } from '../src/chain.js';
import { fromIni } from '../src/providers/profile/ini.js';
import { fromTokenFile } from '../src/providers/sts/token-file.js';
import { startStsServer, type StsServer } from '../src/testing/sts-server.js';
import { buildCli, runCli } from './helpers/built-cli.js';
import { canary, SecretProbe } from './helpers/secrets-probe.js';

/** Issue 18 in the CLI: control characters, huge configs, argument conventions, demo on signals. */

const ESC = '\u001b';
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
const dir = mkdtempSync(join(tmpdir(), 'credchain-cli-bad-'));
const probe = new SecretProbe();
const SECRET = canary('SECRETKEY');
const KEYS = { AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE', AWS_SECRET_ACCESS_KEY: SECRET };
let sts: StsServer;

beforeAll(async () => {
  sts = await startStsServer({
    users: {
      [KEYS.AWS_ACCESS_KEY_ID]: {
        secretAccessKey: SECRET,
        arn: `arn:aws:iam::123456789012:user/${ESC}]0;owned${ESC}\\${ESC}[2J\u009b31m\rforged`,
        userId: `AIDA${ESC}[8m`,
      },
    },
  });
});
afterAll(async () => {
  await sts.close();
  rmSync(dir, { recursive: true, force: true });
});

async function cli(label: string, args: string[], env: Record<string, string> = {}) {
  const r = await runCli(args, env);
  probe.text(`${label} stdout`, r.stdout);
  probe.text(`${label} stderr`, r.stderr);
  return r;
}

describe('text from files, env and servers is safe for a terminal', () => {
  it('whoami prints an STS Arn holding ESC sequences, C1 CSI and CR neutralised, on one line', async () => {
    const r = await cli('whoami esc', ['whoami'], { ...KEYS, AWS_ENDPOINT_URL_STS: sts.url, AWS_REGION: 'us-east-1' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(CONTROL);
    expect(r.stdout).toContain('ARN:      arn:aws:iam::123456789012:user/?]0;owned?\\?[2J?31m?forged\n');
    expect(r.stdout).toContain('UserId:   AIDA?[8m\n');
  });

  it('an STS error message with control characters is printed neutralised', async () => {
    sts.inject({ kind: 'error', status: 403, code: 'AccessDenied', message: `denied${ESC}[2J${ESC}]0;title\u0007` });
    const r = await cli('whoami error', ['whoami'], { ...KEYS, AWS_ENDPOINT_URL_STS: sts.url, AWS_REGION: 'us-east-1' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('denied?[2J?]0;title?');
    expect(r.stderr).not.toMatch(CONTROL);
  });

  it('a profile name with control characters (--profile, AWS_PROFILE) is neutralised in errors and explain', async () => {
    const config = join(dir, 'esc-config');
    writeFileSync(config, `[profile ok${ESC}[31m]\nregion = us-east-1\n`);
    const env = { AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' };
    for (const [label, args, extra] of [
      ['flag', ['--profile', `x${ESC}]0;t\u0007`, 'export'], {}],
      ['env', ['export'], { AWS_PROFILE: `y${ESC}[2J` }],
      ['explain', ['explain'], { AWS_PROFILE: `z${ESC}[2J` }],
    ] as const) {
      const r = await cli(`profile ${label}`, [...args], { ...env, ...extra });
      expect(r.code, label).toBe(1);
      expect(r.stdout + r.stderr, label).not.toMatch(CONTROL);
      expect(r.stdout + r.stderr, label).toMatch(/`[xyz]\?[\]\[]/); // the name, neutralised
    }
  });
});

describe('library errors are terminal-safe too', () => {
  it('a missing profile named with ESC, BEL, C1 CSI and bidi overrides: neutralised in the message', async () => {
    const error = (await fromIni({ profile: `a${ESC}[2J\u0007\u009b1m\u202Eb`, env: {}, configFile: '/nonexistent', credentialsFile: '/nonexistent' })().catch((e: unknown) => e)) as Error;
    expect(error.name).toBe('ProfileNotFoundError');
    expect(error.message).toContain('Profile `a?[2J??1m?b` was not found');
    expect(error.message).not.toMatch(CONTROL);
  });
});

describe('short errors on huge input', () => {
  it('a missing profile in a config of 200k profiles lists a few names and the count', async () => {
    const config = join(dir, 'huge-config');
    const lines: string[] = [];
    for (let i = 0; i < 200_000; i++) lines.push(`[profile p${i}]\nregion = us-east-1`);
    writeFileSync(config, lines.join('\n'));
    const r = await cli('huge', ['--profile', 'missing', 'export'], { AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Profile `missing` was not found');
    expect(r.stderr).toMatch(/profiles that exist: p0, p1, p10, p100, p1000 and 199995 more/);
    expect(r.stderr.length).toBeLessThan(1_000);
  }, 60_000);

  it('a profile name of 100k characters is cut in the message', async () => {
    const r = await cli('long name', ['export'], { AWS_PROFILE: 'n'.repeat(100_000), AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('… (100000 characters)');
    expect(r.stderr.length).toBeLessThan(2_000);
  });
});

describe('NoCredentialsError', () => {
  it('names each provider once per line', async () => {
    const error = (await chain(fromTokenFile({ env: {} }))().catch((e: unknown) => e)) as Error;
    expect(error.message).toBe('Could not find AWS credentials. Attempted:\n  - token-file: AWS_WEB_IDENTITY_TOKEN_FILE is not set');
  });
});

describe('CLI conventions', () => {
  it('--version prints the package version', async () => {
    const r = await cli('version', ['--version']);
    expect(r).toEqual({ code: 0, stdout: `credchain ${packageJson.version}\n`, stderr: '' });
  });

  it.each([
    [['explain', '--json'], 'credchain explain: unknown option "--json"'],
    [['whoami', 'extra'], 'credchain whoami: unexpected argument "extra"'],
    [['demo', '--fast'], 'credchain demo: unknown option "--fast"'],
    [['export', 'extra'], 'credchain export: '],
    [['export', '--frmat', 'json'], 'credchain export: '],
    [['exec', '--env', '--', 'true'], 'credchain exec: unknown option "--env" (the command goes after --)'],
    [['exec', '--', ''], 'credchain exec: exec needs a command after --, not an empty string'],
    [['exec', '--'], 'credchain exec: exec needs a command after --'],
    [['explain', `--${ESC}[2J`], 'credchain explain: unknown option "--?[2J"'],
    [['export', `--${ESC}[2J`], 'credchain export: '], // Node's parseArgs message, quoting the flag
  ])('%j is a usage error (exit 2, the command’s usage)', async (args, message) => {
    const r = await cli(`usage ${args.join(' ')}`, args, KEYS);
    expect(r.code).toBe(2);
    expect(r.stderr.startsWith(message)).toBe(true);
    expect(r.stderr).toContain(`credchain ${args[0]}`);
    expect(r.stderr).not.toMatch(CONTROL);
    expect(r.stdout).toBe('');
  });

  it('an unknown command with control characters is named neutralised', async () => {
    const r = await cli('unknown command', [`x${ESC}]0;t\u0007`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('credchain: unknown command "x?]0;t?"');
    expect(r.stderr).not.toMatch(CONTROL);
  });

  it('exec without -- still runs the command', async () => {
    const r = await cli('exec plain', ['exec', 'sh', '-c', 'test -n "$AWS_ACCESS_KEY_ID"'], KEYS);
    expect(r.code).toBe(0);
  });
});

describe('credchain demo stopped by a signal', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`removes its temporary home on ${signal} and ends by that signal`, async () => {
      const cliPath = await buildCli();
      const tmp = mkdtempSync(join(dir, 'tmp-'));
      const child = spawn(process.execPath, [cliPath, 'demo'], { env: { PATH: process.env.PATH ?? '', TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      const homes: string[] = [];
      const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, sig) => resolve({ code, signal: sig })));
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await new Promise<void>((resolve) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('credchain demo:') && homes.length === 0) {
            homes.push(...readdirSync(tmp).filter((n) => n.startsWith('credchain-demo-')));
            child.kill(signal);
            resolve();
          }
        });
      });
      const result = await ended;
      clearTimeout(timer);
      expect(homes).toHaveLength(1); // it was there when the signal came
      expect(result.signal).toBe(signal);
      expect(existsSync(join(tmp, homes[0]!))).toBe(false);
    }, 30_000);
  }
});

describe('no canary in any output', () => {
  it('of the cases above', () => {
    expect(probe.counts.outputs).toBeGreaterThan(10);
    expect(probe.leaks([SECRET])).toEqual([]);
  });
});
