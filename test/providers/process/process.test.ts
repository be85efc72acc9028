import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialsError, isNotFound } from '../../../src/errors.js';
import { fromProcess, ProcessCredentialsError, splitCommandLine } from '../../../src/providers/process/process.js';

const NODE = process.execPath;
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYSTDOUTSECRET';
const TOKEN = 'SESSIONTOKEN-FROM-STDOUT';
let dir: string;

/** Writes a tiny node script into a folder whose name has a space, returns its path. */
async function script(name: string, body: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, body);
  return file;
}
const q = (s: string) => `"${s}"`;

beforeAll(async () => {
  dir = path.join(await mkdtemp(path.join(os.tmpdir(), 'credchain-process-')), 'helper dir');
  await mkdir(dir);
});
afterAll(async () => {
  await rm(path.dirname(dir), { recursive: true, force: true });
});

async function failure(promise: Promise<unknown>): Promise<ProcessCredentialsError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProcessCredentialsError);
  expect(error).toBeInstanceOf(CredentialsError);
  expect(isNotFound(error)).toBe(false);
  return error as ProcessCredentialsError;
}

function expectNoStdoutSecrets(error: Error) {
  for (const text of [error.message, JSON.stringify(error), inspect(error)]) {
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(TOKEN);
  }
}

describe('fromProcess', () => {
  it('returns the credentials a Version 1 document describes', async () => {
    const file = await script(
      'ok.mjs',
      `process.stdout.write(JSON.stringify({ Version: 1, AccessKeyId: 'AKIDPROC', SecretAccessKey: '${SECRET}',
        SessionToken: '${TOKEN}', Expiration: '2030-01-02T03:04:05Z', AccountId: '111122223333' }));`,
    );
    const creds = await fromProcess({ command: `${q(NODE)} ${q(file)}`, now: () => Date.parse('2029-01-01T00:00:00Z') })();
    expect(creds).toMatchObject({ accessKeyId: 'AKIDPROC', secretAccessKey: SECRET, sessionToken: TOKEN, accountId: '111122223333' });
    expect(creds.expiration?.toISOString()).toBe('2030-01-02T03:04:05.000Z');
    expect(inspect(creds)).not.toContain(SECRET); // built with makeCredentials
    expect(JSON.stringify(creds)).not.toContain(TOKEN);
  });

  it("uses the profile's account id when the output has none, and no expiration when none is given", async () => {
    const file = await script('min.mjs', `console.log(JSON.stringify({ Version: 1, AccessKeyId: 'A', SecretAccessKey: 'S' }))`);
    const creds = await fromProcess({ command: `${q(NODE)} ${q(file)}`, accountId: '999' })();
    expect(creds.accountId).toBe('999');
    expect(creds.expiration).toBeUndefined();
    expect(creds.sessionToken).toBeUndefined();
  });

  it('passes arguments split like the AWS CLI, with no shell in between', async () => {
    const file = await script(
      'argv.mjs',
      `console.log(JSON.stringify({ Version: 1, AccessKeyId: JSON.stringify(process.argv.slice(2)), SecretAccessKey: 'S' }))`,
    );
    const command = `${q(NODE)} '${file}' --name "two words" it\\'s 'single "inner"' "a\\"b" $HOME '|' ';' \`id\` ""`;
    const creds = await fromProcess({ command })();
    expect(JSON.parse(creds.accessKeyId)).toEqual(['--name', 'two words', "it's", 'single "inner"', 'a"b', '$HOME', '|', ';', '`id`', '']);
  });

  it('gives the command the environment it is told to', async () => {
    const file = await script(
      'env.mjs',
      `console.log(JSON.stringify({ Version: 1, AccessKeyId: process.env.HELPER_USER ?? 'unset', SecretAccessKey: 'S' }))`,
    );
    const creds = await fromProcess({ command: `${q(NODE)} ${q(file)}`, env: { ...process.env, HELPER_USER: 'alice' } })();
    expect(creds.accessKeyId).toBe('alice');
  });

  it('quotes stderr and never stdout when the command exits non-zero', async () => {
    const file = await script(
      'fail.mjs',
      `process.stdout.write('{"Version":1,"AccessKeyId":"A","SecretAccessKey":"${SECRET}"}');
       process.stderr.write('  token expired, run: helper login\\n');
       process.exit(3);`,
    );
    const error = await failure(fromProcess({ command: `${q(NODE)} ${q(file)} --secret-arg hunter2`, profileName: 'dev' })());
    expect(error.reason).toBe('exit');
    expect(error.exitCode).toBe(3);
    expect(error.message).toContain('profile `dev`');
    expect(error.message).toContain('exited with code 3');
    expect(error.message).toContain('Its stderr: token expired, run: helper login');
    expect(error.message).toContain(NODE);
    expect(error.message).not.toContain('hunter2'); // arguments may hold secrets: only the program is named
    expectNoStdoutSecrets(error);
  });

  it('says so, without stdout, when the output is not JSON', async () => {
    const file = await script(
      'badjson.mjs',
      `process.stdout.write('AccessKeyId=A SecretAccessKey=${SECRET} SessionToken=${TOKEN}'); console.error('warning: old format');`,
    );
    const error = await failure(fromProcess({ command: `${q(NODE)} ${q(file)}` })());
    expect(error.reason).toBe('output');
    expect(error.message).toContain('did not print valid JSON');
    expect(error.message).toContain('warning: old format');
    expectNoStdoutSecrets(error);
  });

  it.each([
    ['a wrong Version', `{ Version: 2, AccessKeyId: 'A', SecretAccessKey: '${SECRET}' }`, 'Version 2'],
    ['no Version', `{ AccessKeyId: 'A', SecretAccessKey: '${SECRET}' }`, 'Version none'],
    ['a string Version', `{ Version: '1', AccessKeyId: 'A', SecretAccessKey: '${SECRET}' }`, 'Version a string'],
    ['no SecretAccessKey', `{ Version: 1, AccessKeyId: 'A', SessionToken: '${TOKEN}' }`, 'no SecretAccessKey'],
    ['an empty AccessKeyId', `{ Version: 1, AccessKeyId: '', SecretAccessKey: '${SECRET}' }`, 'AccessKeyId that is not'],
    ['a bad Expiration', `{ Version: 1, AccessKeyId: 'A', SecretAccessKey: '${SECRET}', Expiration: 'soon' }`, 'not an ISO 8601'],
    ['an expired Expiration', `{ Version: 1, AccessKeyId: 'A', SecretAccessKey: '${SECRET}', Expiration: '2001-01-01T00:00:00Z' }`, 'expired at 2001'],
    ['an array', `[1]`, 'not print a JSON object'],
  ])('rejects %s, without stdout', async (_label, doc, expected) => {
    const file = await script(`doc-${expected.replace(/\W/g, '')}.mjs`, `console.log(JSON.stringify(${doc}))`);
    const error = await failure(fromProcess({ command: `${q(NODE)} ${q(file)}` })());
    expect(error.message).toContain(expected);
    expectNoStdoutSecrets(error);
  });

  it('stops a command that takes too long, quoting what it said so far', async () => {
    const pidFile = path.join(dir, 'slow.pid');
    const file = await script(
      'slow.mjs',
      `import { writeFileSync } from 'node:fs';
       writeFileSync(${JSON.stringify(pidFile)}, String(process.pid));
       console.error('waiting for device approval');
       setTimeout(() => {}, 60_000);`,
    );
    const started = Date.now();
    const error = await failure(fromProcess({ command: `${q(NODE)} ${q(file)}`, timeoutMs: 1_000 })());
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error.reason).toBe('timeout');
    expect(error.message).toContain('1000 ms');
    expect(error.message).toContain('waiting for device approval');
    const pid = Number(await readFile(pidFile, 'utf8'));
    await expect.poll(() => isAlive(pid), { timeout: 5_000 }).toBe(false);
  });

  it('refuses a timeoutMs setTimeout cannot honour (Infinity, NaN, over 2^31-1, 0) with an error naming timeoutMs', () => {
    for (const timeoutMs of [Infinity, Number.NaN, 2 ** 31, 1e12, 0, -5]) {
      expect(() => fromProcess({ command: 'true', timeoutMs }), String(timeoutMs)).toThrow(/timeoutMs must be a finite number of milliseconds/);
    }
    expect(() => fromProcess({ command: 'true', timeoutMs: 2 ** 31 - 1 })).not.toThrow();
  });

  it('stops a command that floods stdout', async () => {
    const file = await script('flood.mjs', `process.stdout.write('x'.repeat(300_000)); setTimeout(() => {}, 30_000);`);
    const error = await failure(fromProcess({ command: `${q(NODE)} ${q(file)}`, maxOutputBytes: 100_000 })());
    expect(error.reason).toBe('output');
    expect(error.message).toContain('more than 100000 bytes');
  });

  it('reports a program that is not there by name', async () => {
    const missing = path.join(dir, 'no-such-helper');
    const error = await failure(fromProcess({ command: `${q(missing)} --flag`, profileName: 'p' })());
    expect(error.reason).toBe('spawn');
    expect(error.message).toContain(missing);
    expect(error.message).toContain('ENOENT');
  });

  it('reports a command line that cannot be split, without quoting it', async () => {
    const error = await failure(fromProcess({ command: `helper --password 'hunter2`, profileName: 'p' })());
    expect(error.reason).toBe('command-line');
    expect(error.message).toContain('unclosed single quote');
    expect(error.message).not.toContain('hunter2');
    expect((await failure(fromProcess({ command: '   ' })())).reason).toBe('command-line');
  });

  it('reports a command killed by a signal', async () => {
    const file = await script('killed.mjs', `process.kill(process.pid, 'SIGKILL')`);
    const error = await failure(fromProcess({ command: `${q(NODE)} ${q(file)}` })());
    expect(error.reason).toBe('signal');
    expect(error.message).toContain('SIGKILL');
  });

  it('runs the command again on every call (caching is refreshing()’s job)', async () => {
    const counter = path.join(dir, 'count.txt');
    await writeFile(counter, '0');
    const file = await script(
      'count.mjs',
      `import { readFileSync, writeFileSync } from 'node:fs';
       const n = Number(readFileSync(${JSON.stringify(counter)}, 'utf8')) + 1;
       writeFileSync(${JSON.stringify(counter)}, String(n));
       console.log(JSON.stringify({ Version: 1, AccessKeyId: 'A' + n, SecretAccessKey: 'S' }));`,
    );
    const provider = fromProcess({ command: `${q(NODE)} ${q(file)}` });
    expect((await provider()).accessKeyId).toBe('A1');
    expect((await provider()).accessKeyId).toBe('A2');
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('splitCommandLine', () => {
  it.each([
    ['plain words', 'a b  c', ['a', 'b', 'c']],
    ['single quotes keep everything', `'a "b" \\c'`, ['a "b" \\c']],
    ['double quotes escape only " and \\', `"a \\"b\\" \\\\ \\n"`, ['a "b" \\ \\n']],
    ['backslash outside quotes', `a\\ b c\\'d`, ['a b', "c'd"]],
    ['adjacent quoted parts join', `pre"mid dle"'post'`, ['premid dlepost']],
    ['empty quotes are an argument', `a "" ''`, ['a', '', '']],
    ['# is not a comment', `a #b`, ['a', '#b']],
    ['tabs and newlines separate', 'a\tb\nc', ['a', 'b', 'c']],
  ])('POSIX: %s', (_label, input, expected) => {
    expect(splitCommandLine(input, 'linux')).toEqual(expected);
  });

  it.each([
    ['backslashes are literal', 'C:\\tools\\creds.exe --x', ['C:\\tools\\creds.exe', '--x']],
    ['quotes group', '"C:\\Program Files\\x.exe" a', ['C:\\Program Files\\x.exe', 'a']],
    ['\\" is a quote', 'a\\"b', ['a"b']],
    ['2n backslashes before a quote halve', 'a\\\\"b c"', ['a\\b c']],
    ['2n+1 backslashes before a quote halve and escape it', 'a\\\\\\"b', ['a\\"b']],
    ['single quotes are ordinary', "'a b'", ["'a", "b'"]],
    ['empty quotes are an argument', 'a ""', ['a', '']],
  ])('Windows: %s', (_label, input, expected) => {
    expect(splitCommandLine(input, 'win32')).toEqual(expected);
  });

  it('rejects unbalanced quotes and a trailing backslash', () => {
    expect(() => splitCommandLine(`a 'b`, 'linux')).toThrow(/unclosed single quote/);
    expect(() => splitCommandLine(`a "b`, 'linux')).toThrow(/unclosed double quote/);
    expect(() => splitCommandLine(`a \\`, 'linux')).toThrow(/lone backslash/);
    expect(() => splitCommandLine(`a "b`, 'windows')).toThrow(/unclosed double quote/);
  });
});
