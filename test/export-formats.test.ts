import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatCredentials, FORMATS } from '../src/cli/commands/export.js';
import { makeCredentials } from '../src/credentials.js';
import { runCli } from './helpers/built-cli.js';

// `credchain export --format …` in the formats of `aws configure export-credentials`, each value quoted
// for its shell. The sh/bash/fish output is evaluated by the real shells; PowerShell runs when `pwsh` is
// installed, otherwise its quoting rules (and cmd.exe's) are checked against the language's rules.

const VARS = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_CREDENTIAL_EXPIRATION', 'AWS_ACCOUNT_ID', 'AWS_SECURITY_TOKEN'] as const;

/** Everything a shell could trip on: quotes of every kind, expansions, globs, comments, a line break. */
const NASTY_SECRET = `it's "quoted" $HOME \${HOME} $(touch pwned) \`touch pwned\` %PATH% !! \\back\\slash\\' ‘curly’ ‚low‛`;
const NASTY_TOKEN = `line one\nline two; echo pwned & | > out < in # not a comment * ~ {a,b} (fish) $(fish) \\n\\'`;
const EXPIRATION = '2099-01-02T03:04:05.000Z';

function which(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const hasFish = which('fish');
const hasPwsh = which('pwsh');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'credchain-export-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function run(file: string, args: string[], env: Record<string, string>, cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env: { PATH: process.env.PATH ?? '', HOME: cwd, ...env }, cwd, timeout: 20_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} failed: ${stderr}`));
      else resolve(stdout);
    });
  });
}

type Seen = Record<string, { value?: string; exported: boolean }>;

/** NUL-separated `NAME=value` (set) or `NAME` (unset) records, then `env -0` of a child for exported-ness. */
function parseDump(out: string): Seen {
  const [shellPart, envPart] = out.split('\0--ENV--\0') as [string, string];
  const exported = new Set(envPart.split('\0').map((kv) => kv.slice(0, kv.indexOf('='))));
  const seen: Seen = {};
  for (const record of shellPart.split('\0').filter(Boolean)) {
    const eq = record.indexOf('=');
    const name = eq < 0 ? record : record.slice(0, eq);
    seen[name] = { ...(eq < 0 ? {} : { value: record.slice(eq + 1) }), exported: exported.has(name) };
  }
  return seen;
}

const POSIX_DUMP = [
  ...VARS.map((v) => `if [ "\${${v}+x}" = x ]; then printf '%s=%s\\0' ${v} "$${v}"; else printf '%s\\0' ${v}; fi`),
  `printf '\\0--ENV--\\0'; env -0`,
].join('\n');

const FISH_DUMP = [
  `for v in ${VARS.join(' ')}; if set -q $v; printf '%s=%s\\0' $v "$$v"; else; printf '%s\\0' $v; end; end`,
  `printf '\\0--ENV--\\0'; env -0`,
].join('\n');

/** Evaluates the output in a real shell, the way the README says to, in a fresh directory (to spot `pwned`). */
async function evaluate(shell: 'bash' | 'sh' | 'fish', output: string, env: Record<string, string> = {}): Promise<Seen> {
  const cwd = await mkdtemp(path.join(dir, `${shell}-`));
  const file = path.join(cwd, 'creds.out');
  await writeFile(file, output);
  const script =
    shell === 'bash'
      ? `eval "$(cat creds.out)"\n${POSIX_DUMP}`
      : shell === 'sh'
        ? `. ./creds.out\n${POSIX_DUMP}`
        : `cat creds.out | source\n${FISH_DUMP}`;
  const args = shell === 'fish' ? ['--no-config', '-c', script] : ['-c', script];
  // HOME elsewhere: fish writes its own files there.
  const seen = parseDump(await run(shell, args, { HOME: path.join(dir, 'home'), ...env }, cwd));
  // Nothing in a value ran: no file appeared next to the output.
  const listing = await run('ls', ['-A'], {}, cwd);
  expect(listing.trim().split('\n')).toEqual(['creds.out']);
  return seen;
}

const FULL_ENV = {
  AWS_ACCESS_KEY_ID: 'AKIDEXPORTTEST',
  AWS_SECRET_ACCESS_KEY: NASTY_SECRET,
  AWS_SESSION_TOKEN: NASTY_TOKEN,
  AWS_CREDENTIAL_EXPIRATION: EXPIRATION,
  AWS_ACCOUNT_ID: '123456789012',
};
const FULL: Seen = {
  AWS_ACCESS_KEY_ID: { value: 'AKIDEXPORTTEST', exported: true },
  AWS_SECRET_ACCESS_KEY: { value: NASTY_SECRET, exported: true },
  AWS_SESSION_TOKEN: { value: NASTY_TOKEN, exported: true },
  AWS_CREDENTIAL_EXPIRATION: { value: EXPIRATION, exported: true },
  AWS_ACCOUNT_ID: { value: '123456789012', exported: true },
  AWS_SECURITY_TOKEN: { exported: false },
};
const notExported = (seen: Seen): Seen => Object.fromEntries(Object.entries(seen).map(([k, v]) => [k, { ...v, exported: false }]));
/** A shell that still holds an older session: the output must clear what the new credentials lack. */
const STALE = { AWS_SESSION_TOKEN: 'stale-token', AWS_SECURITY_TOKEN: 'stale-legacy-token', AWS_CREDENTIAL_EXPIRATION: '2000-01-01T00:00:00Z', AWS_ACCOUNT_ID: '999999999999' };
const KEYS_ONLY: Seen = {
  AWS_ACCESS_KEY_ID: { value: 'AKIDEXPORTTEST', exported: true },
  AWS_SECRET_ACCESS_KEY: { value: NASTY_SECRET, exported: true },
  AWS_SESSION_TOKEN: { exported: false },
  AWS_CREDENTIAL_EXPIRATION: { exported: false },
  AWS_ACCOUNT_ID: { exported: false },
  AWS_SECURITY_TOKEN: { exported: false },
};

/** The built CLI resolving these variables (the env link) and printing them in one format. */
async function exported(format: string, env: Record<string, string>): Promise<string> {
  const r = await runCli(['export', '--format', format], env);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

describe('credchain export: POSIX shells (bash and sh evaluate the output)', () => {
  it.each(['bash', 'sh'] as const)('--format env in %s: every value arrives byte for byte, exported', async (shell) => {
    expect(await evaluate(shell, await exported('env', FULL_ENV))).toEqual(FULL);
  });

  it.each(['bash', 'sh'] as const)('--format env in %s: variables the credentials lack are unset', async (shell) => {
    const out = await exported('env', { AWS_ACCESS_KEY_ID: 'AKIDEXPORTTEST', AWS_SECRET_ACCESS_KEY: NASTY_SECRET });
    expect(await evaluate(shell, out, STALE)).toEqual(KEYS_ONLY);
  });

  it.each(['bash', 'sh'] as const)('--format env-no-export in %s: the same values, as shell variables a child does not see', async (shell) => {
    const out = await exported('env-no-export', FULL_ENV);
    expect(out).not.toMatch(/^export /m);
    expect(await evaluate(shell, out)).toEqual(notExported(FULL));
    expect(await evaluate(shell, await exported('env-no-export', { AWS_ACCESS_KEY_ID: 'AKIDEXPORTTEST', AWS_SECRET_ACCESS_KEY: NASTY_SECRET }), STALE)).toEqual(
      { ...notExported(KEYS_ONLY) },
    );
  });
});

describe('credchain export --format fish', () => {
  it.skipIf(!hasFish)('fish sources it (`credchain export --format fish | source`): every value arrives, exported', async () => {
    const out = await exported('fish', FULL_ENV);
    expect(out).toMatch(/^set -gx AWS_ACCESS_KEY_ID 'AKIDEXPORTTEST'$/m);
    expect(await evaluate('fish', out)).toEqual(FULL);
  });

  it.skipIf(!hasFish)('fish: variables the credentials lack are erased', async () => {
    const out = await exported('fish', { AWS_ACCESS_KEY_ID: 'AKIDEXPORTTEST', AWS_SECRET_ACCESS_KEY: NASTY_SECRET });
    expect(await evaluate('fish', out, STALE)).toEqual(KEYS_ONLY);
  });

  it.runIf(!hasFish)('fish is not installed here (apt-get install fish): the fish shell tests are skipped', () => {
    expect(hasFish).toBe(false);
  });
});

/** PowerShell verbatim strings (about_Quoting_Rules): `'…'`, any of ' ‘ ’ ‚ ‛ ends it, two in a row are one. */
function decodePowershell(out: string): Seen {
  const seen: Seen = {};
  const q = "'\u2018\u2019\u201a\u201b";
  const line = new RegExp(`\\$Env:([A-Z_]+)=[${q}]((?:[^${q}]|[${q}]{2})*)[${q}]\\n|Remove-Item -Path Env:([A-Z_]+) -ErrorAction SilentlyContinue\\n`, 'y');
  let m: RegExpExecArray | null;
  let at = 0;
  while ((m = line.exec(out)) !== null) {
    at = line.lastIndex;
    if (m[3] !== undefined) seen[m[3]] = { exported: false };
    else seen[m[1]!] = { value: m[2]!.replace(new RegExp(`([${q}])[${q}]`, 'g'), '$1'), exported: true };
  }
  expect(at).toBe(out.length); // every line matched the grammar
  return seen;
}

describe('credchain export --format powershell', () => {
  it('single-quoted (nothing expands), quotes doubled, typographic single quotes too: decodes back to every value', async () => {
    const out = await exported('powershell', FULL_ENV);
    expect(out).toMatch(/^\$Env:AWS_ACCESS_KEY_ID='AKIDEXPORTTEST'$/m);
    expect(decodePowershell(out)).toEqual(FULL);
    expect(out).toContain("it''s");
    expect(out).toContain('‘‘curly’’');
  });

  it('clears the variables the credentials lack', async () => {
    const out = await exported('powershell', { AWS_ACCESS_KEY_ID: 'AKIDEXPORTTEST', AWS_SECRET_ACCESS_KEY: NASTY_SECRET });
    expect(decodePowershell(out)).toEqual(KEYS_ONLY);
  });

  it.skipIf(!hasPwsh)('pwsh evaluates it (`| Invoke-Expression`)', async () => {
    const cwd = await mkdtemp(path.join(dir, 'pwsh-'));
    await writeFile(path.join(cwd, 'creds.ps1'), await exported('powershell', FULL_ENV));
    const dump = `Get-Content -Raw creds.ps1 | Invoke-Expression; foreach ($v in '${VARS.join("','")}') { [Console]::Out.Write("$v=" + [Environment]::GetEnvironmentVariable($v) + [char]0) }`;
    const out = await run('pwsh', ['-NoProfile', '-NonInteractive', '-Command', dump], {}, cwd);
    const seen = Object.fromEntries(out.split('\0').filter(Boolean).map((r) => [r.slice(0, r.indexOf('=')), r.slice(r.indexOf('=') + 1)]));
    expect(seen).toEqual(Object.fromEntries(VARS.map((v) => [v, FULL[v]!.value ?? ''])));
  });

  it.runIf(!hasPwsh)('pwsh is not installed here: PowerShell is checked against its quoting rules only', () => {
    expect(hasPwsh).toBe(false);
  });
});

describe('credchain export --format windows-cmd', () => {
  const CMD_SAFE = `abc+/=&|<>^()$'~*;,`;

  it('`set "NAME=value"` lines with CRLF: & | < > ^ ( ) stay inside the quotes, where cmd.exe keeps them literal', () => {
    const out = formatCredentials(
      makeCredentials({ accessKeyId: 'AKIDCMD', secretAccessKey: CMD_SAFE, sessionToken: CMD_SAFE, accountId: '123456789012' }),
      'windows-cmd',
    );
    expect(out.split('\r\n')).toEqual([
      'set "AWS_ACCESS_KEY_ID=AKIDCMD"',
      `set "AWS_SECRET_ACCESS_KEY=${CMD_SAFE}"`,
      `set "AWS_SESSION_TOKEN=${CMD_SAFE}"`,
      'set "AWS_CREDENTIAL_EXPIRATION="',
      'set "AWS_ACCOUNT_ID=123456789012"',
      'set "AWS_SECURITY_TOKEN="',
      '',
    ]);
    expect(out.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
  });

  it.each([
    ['a double quote', 'ab"cd'],
    ['a percent sign', 'ab%PATH%cd'],
    ['an exclamation mark', 'ab!x!cd'],
    ['a line break', 'ab\ncd'],
    ['a carriage return', 'ab\rcd'],
  ])('refuses a value holding %s, naming the variable and not the value', (_what, value) => {
    const secret = `${value}-secret-part`;
    let error: unknown;
    try {
      formatCredentials(makeCredentials({ accessKeyId: 'AKIDCMD', secretAccessKey: secret }), 'windows-cmd');
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).toContain('AWS_SECRET_ACCESS_KEY');
    expect((error as Error).message).toContain('--format powershell');
    expect((error as Error).message).not.toContain('secret-part');
  });

  it('the CLI exits 1 with that message, and prints no credentials', async () => {
    const r = await runCli(['export', '--format', 'windows-cmd'], FULL_ENV);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('AWS_SECRET_ACCESS_KEY holds a character cmd.exe cannot be given safely');
    expect(r.stderr).not.toContain('pwned');
  });
});

describe('credchain export: every format', () => {
  it('refuses a NUL in a value in the shell formats (no environment variable can hold one)', () => {
    for (const format of FORMATS.filter((f) => f !== 'json' && f !== 'process')) {
      expect(() => formatCredentials(makeCredentials({ accessKeyId: 'A', secretAccessKey: 'a\0b' }), format)).toThrow(/NUL/);
    }
  });

  it('an unknown format is a usage error listing them all', async () => {
    const r = await runCli(['export', '--format', 'zsh'], FULL_ENV);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown --format "zsh": use env, env-no-export, fish, powershell, windows-cmd, json, process');
  });
});
