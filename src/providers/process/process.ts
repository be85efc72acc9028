import { systemClock, type Clock } from '../../clock.js';
import { makeCredentials, type CredentialProvider, type Credentials } from '../../credentials.js';
import { CredentialsError } from '../../errors.js';
import { named } from '../../provider.js';
import { ProcessCredentialsError } from './errors.js';

export { ProcessCredentialsError, type ProcessFailure } from './errors.js';

/**
 * `credential_process`: run a command (no shell) that prints credentials as the Version 1 JSON
 * document the AWS CLI defines. Its stdout holds secrets, so it never reaches a message or a
 * log; its stderr is meant for humans and is quoted (trimmed, capped) when the command fails.
 */

export interface FromProcessOptions {
  /** The command line, split like the AWS CLI splits it (see `splitCommandLine`). */
  readonly command: string;
  /** The profile that set `credential_process`, for messages. */
  readonly profileName?: string;
  /**
   * Time allowed for the command. The AWS CLI and SDK JS v3 wait forever; a stuck helper would then
   * hang every caller, so we stop it after the AWS SDK for Go v2's default. At the timeout the call
   * fails at once; the command's whole process group (what it started too) gets SIGTERM, then SIGKILL
   * 2 s later or when this process exits. When stdin is a terminal the command stays in our process
   * group (so it can prompt there) and only the program itself is stopped.
   * @default 60_000
   */
  readonly timeoutMs?: number;
  /** Account id to report when the output has none (the profile's `aws_account_id`, as botocore). */
  readonly accountId?: string;
  /** Environment of the command. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Which splitting rules apply: `win32`/`windows` or POSIX. @default process.platform */
  readonly platform?: string;
  /** Clock for rejecting already-expired output. @default Date.now */
  readonly now?: Clock;
  /** Largest stdout accepted. @default 1 MiB */
  readonly maxOutputBytes?: number;
}

export const DEFAULT_PROCESS_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;
const MAX_STDERR_BYTES = 64 * 1024;
const STDERR_QUOTE_CHARS = 1_000;
const KILL_GRACE_MS = 2_000;
/** The longest delay setTimeout honours (2^31-1 ms, about 24.8 days). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

// ---- command-line splitting ----------------------------------------------------------------------

/** Thrown for a command line that cannot be split; the caller adds which profile it came from. */
class SplitError extends Error {}

/**
 * Splits a command line into argv the way botocore's `compat_shell_split` does: Python
 * `shlex.split` (POSIX) elsewhere, the Microsoft C runtime rules on Windows.
 */
export function splitCommandLine(commandLine: string, platform: string = process.platform): string[] {
  return platform === 'win32' || platform === 'windows' ? splitWindows(commandLine) : splitPosix(commandLine);
}

/** `shlex.split(s)`: quotes group, `\` escapes outside quotes and `"`/`\` inside `"..."`; no comments. */
function splitPosix(s: string): string[] {
  const args: string[] = [];
  let current = '';
  let inArg = false;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n') {
      if (inArg) args.push(current);
      current = '';
      inArg = false;
      continue;
    }
    inArg = true;
    if (ch === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) throw new SplitError('it has an unclosed single quote');
      current += s.slice(i + 1, end);
      i = end;
    } else if (ch === '"') {
      for (i++; ; i++) {
        if (i >= s.length) throw new SplitError('it has an unclosed double quote');
        const c = s[i]!;
        if (c === '"') break;
        if (c === '\\' && (s[i + 1] === '"' || s[i + 1] === '\\')) current += s[++i];
        else current += c;
      }
    } else if (ch === '\\') {
      if (i + 1 >= s.length) throw new SplitError('it ends with a lone backslash');
      current += s[++i];
    } else {
      current += ch;
    }
  }
  if (inArg) args.push(current);
  return args;
}

/** MS C runtime rules (botocore `_windows_shell_split`): backslashes are literal unless before a `"`. */
function splitWindows(s: string): string[] {
  const args: string[] = [];
  let current = '';
  let inArg = false;
  let quoted = false;
  let backslashes = 0;
  const flushBackslashes = () => {
    current += '\\'.repeat(backslashes);
    backslashes = 0;
  };
  for (const ch of s) {
    if (ch === '\\') {
      backslashes++;
      inArg = true;
    } else if (ch === '"') {
      current += '\\'.repeat(Math.floor(backslashes / 2));
      const escaped = backslashes % 2 === 1;
      backslashes = 0;
      inArg = true;
      if (escaped) current += '"';
      else quoted = !quoted;
    } else if ((ch === ' ' || ch === '\t') && !quoted) {
      flushBackslashes();
      if (inArg) args.push(current);
      current = '';
      inArg = false;
    } else {
      flushBackslashes();
      current += ch;
      inArg = true;
    }
  }
  if (quoted) throw new SplitError('it has an unclosed double quote');
  flushBackslashes();
  if (inArg) args.push(current);
  return args;
}

// ---- running the command -------------------------------------------------------------------------

interface RunResult {
  stdout: Buffer;
  stderr: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

/** The tail of stderr, trimmed and capped, with control characters made harmless for terminals. */
function stderrExcerpt(stderr: string): string {
  const trimmed = stderr.trim();
  if (trimmed === '') return ' It printed nothing on stderr.';
  const tail = trimmed.length > STDERR_QUOTE_CHARS ? `…${trimmed.slice(-STDERR_QUOTE_CHARS)}` : trimmed;
  // eslint-disable-next-line no-control-regex
  return ` Its stderr: ${tail.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '?')}`;
}

/**
 * Process groups still to be killed if this process exits first: a helper that ignores SIGTERM must
 * not outlive us holding credentials in memory, even when the exit comes before the grace period ends.
 */
const pendingKills = new Set<() => void>();
let exitHookInstalled = false;
function killOnExit(kill: () => void): () => void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const k of pendingKills) k();
    });
  }
  pendingKills.add(kill);
  return () => pendingKills.delete(kill);
}

async function run(
  argv: string[],
  options: { env: Readonly<Record<string, string | undefined>>; timeoutMs: number; maxOutputBytes: number },
  describe: string,
): Promise<RunResult> {
  // Loaded on first use: keeps node:child_process off the import path of the package root.
  const [{ spawn }, { isatty }] = await Promise.all([import('node:child_process'), import('node:tty')]);
  // Its own process group (POSIX), so that stopping it stops what it started too (`sh -c "sleep 120"`).
  // Not when stdin is a terminal: a helper may prompt there (MFA), and it must stay in the terminal's
  // foreground group to read it and to get Ctrl-C; then only the program itself can be stopped.
  const ownGroup = process.platform !== 'win32' && !isatty(0);
  return new Promise((resolve, reject) => {
    // stdin is inherited, as the AWS CLI does, so a helper can prompt on the terminal (e.g. for MFA).
    const child = spawn(argv[0]!, argv.slice(1), {
      shell: false,
      stdio: ['inherit', 'pipe', 'pipe'],
      env: options.env as NodeJS.ProcessEnv,
      windowsHide: true,
      detached: ownGroup,
    });
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = '';
    let settled = false;
    let stopped = false;
    const finish = (error: Error | undefined, result?: RunResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(result!);
    };
    const signal = (name: NodeJS.Signals) => {
      try {
        if (ownGroup && child.pid !== undefined) process.kill(-child.pid, name);
        else if (child.exitCode === null && child.signalCode === null) child.kill(name);
      } catch {
        // ESRCH: the group is already gone.
      }
    };
    const stop = () => {
      if (stopped) return;
      stopped = true;
      signal('SIGTERM');
      // Never wait on pipes a descendant may hold open, nor on a program that ignores SIGTERM: the
      // caller has its answer now. What is left is killed after a grace period, or when we exit.
      child.stdout.destroy();
      child.stderr.destroy();
      child.unref();
      const forget = killOnExit(() => signal('SIGKILL'));
      // Background clean-up nobody awaits: it must not keep the process alive.
      setTimeout(() => {
        forget();
        signal('SIGKILL');
      }, KILL_GRACE_MS).unref();
    };
    // On the awaited path: this timer keeps the process alive until the command answers or is stopped.
    const timer = setTimeout(() => {
      stop();
      finish(
        new ProcessCredentialsError(`${describe} did not finish within ${options.timeoutMs} ms and was stopped.${stderrExcerpt(stderr)}`, 'timeout'),
      );
    }, options.timeoutMs);

    child.stdout.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > options.maxOutputBytes) {
        stop();
        finish(new ProcessCredentialsError(`${describe} printed more than ${options.maxOutputBytes} bytes on stdout.`, 'output'));
        return;
      }
      stdout.push(chunk);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-MAX_STDERR_BYTES);
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      finish(new ProcessCredentialsError(`${describe} could not be started (${error.code ?? error.message}).`, 'spawn', { cause: withoutArgs(error) }));
    });
    child.on('close', (exitCode, signal) => {
      finish(undefined, { stdout: Buffer.concat(stdout), stderr, exitCode, signal });
    });
  });
}

/**
 * Node's spawn error carries `spawnargs` (the command's arguments, which may hold secrets, e.g.
 * `--api-key ...`): keep what says why it failed, drop the arguments.
 */
function withoutArgs(error: NodeJS.ErrnoException): Error {
  const copy: NodeJS.ErrnoException = new Error(error.message);
  copy.name = error.name;
  for (const key of ['code', 'errno', 'syscall', 'path'] as const) if (error[key] !== undefined) Object.assign(copy, { [key]: error[key] });
  return copy;
}

// ---- reading the output ----------------------------------------------------------------------------

function readOutput(result: RunResult, describe: string, fallbackAccountId: string | undefined, nowMs: number): Credentials {
  const fail = (problem: string) =>
    new ProcessCredentialsError(`${describe} ${problem}.${stderrExcerpt(result.stderr)}`, 'output');
  let parsed: unknown;
  try {
    parsed = JSON.parse(result.stdout.toString('utf8'));
  } catch {
    throw fail(`did not print valid JSON on stdout (${result.stdout.length} bytes, not shown)`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw fail('did not print a JSON object');
  const doc = parsed as Record<string, unknown>;
  if (doc.Version !== 1) {
    const got = typeof doc.Version === 'number' ? String(doc.Version) : doc.Version === undefined ? 'none' : `a ${typeof doc.Version}`;
    throw fail(`printed Version ${got}; only Version 1 is supported`);
  }
  const text = (key: string, required: boolean): string | undefined => {
    const v = doc[key];
    if (v === undefined || v === null) {
      if (required) throw fail(`printed no ${key}`);
      return undefined;
    }
    if (typeof v !== 'string' || (required && v === '')) throw fail(`printed a ${key} that is not a non-empty string`);
    return v;
  };
  const accessKeyId = text('AccessKeyId', true)!;
  const secretAccessKey = text('SecretAccessKey', true)!;
  const sessionToken = text('SessionToken', false);
  const accountId = text('AccountId', false) ?? fallbackAccountId;
  const expirationText = text('Expiration', false);
  let expiration: Date | undefined;
  if (expirationText !== undefined) {
    expiration = new Date(expirationText);
    if (Number.isNaN(expiration.getTime())) throw fail('printed an Expiration that is not an ISO 8601 time');
    if (expiration.getTime() <= nowMs) throw fail(`printed credentials that expired at ${expiration.toISOString()}`);
  }
  return makeCredentials({ accessKeyId, secretAccessKey, sessionToken, expiration, accountId });
}

/**
 * A provider that runs `credential_process` on every call (wrap it in `refreshing` to cache).
 * Failures are `ProcessCredentialsError`s naming the profile and the program (not its arguments,
 * which may hold secrets), quoting stderr and never stdout.
 */
export function fromProcess(options: FromProcessOptions): CredentialProvider {
  const timeoutMs = options.timeoutMs ?? DEFAULT_PROCESS_TIMEOUT_MS;
  const maxOutputBytes = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const now = options.now ?? systemClock;
  const where = options.profileName !== undefined ? ` of profile \`${options.profileName}\`` : '';
  // setTimeout fires at once for anything above 2^31-1 ms (or Infinity): refuse it instead.
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0 || timeoutMs > MAX_TIMEOUT_MS) {
    throw new CredentialsError(`fromProcess: timeoutMs must be a finite number of milliseconds, above 0 and at most ${MAX_TIMEOUT_MS} (got ${timeoutMs})`, {
      providerName: 'process',
    });
  }

  return named('process', async () => {
    let argv: string[];
    try {
      argv = splitCommandLine(options.command, options.platform);
    } catch (error) {
      const why = error instanceof SplitError ? error.message : String(error);
      throw new ProcessCredentialsError(`The credential_process${where} cannot be split into arguments: ${why}.`, 'command-line');
    }
    if (argv.length === 0 || argv[0] === '') {
      throw new ProcessCredentialsError(`The credential_process${where} is empty.`, 'command-line');
    }
    const describe = `The credential_process${where} (program \`${argv[0]}\`)`;
    const result = await run(argv, { env: options.env ?? process.env, timeoutMs, maxOutputBytes }, describe);
    if (result.signal !== null) {
      throw new ProcessCredentialsError(`${describe} was killed by ${result.signal}.${stderrExcerpt(result.stderr)}`, 'signal');
    }
    if (result.exitCode !== 0) {
      throw new ProcessCredentialsError(`${describe} exited with code ${result.exitCode}.${stderrExcerpt(result.stderr)}`, 'exit', {
        exitCode: result.exitCode ?? undefined,
      });
    }
    return readOutput(result, describe, options.accountId, now());
  });
}
