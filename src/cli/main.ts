#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { realpathSync } from 'node:fs';
import { isatty } from 'node:tty';
import { fileURLToPath } from 'node:url';
import { CredentialsError, isNotFound, messageOf, shortText, terminalSafe } from '../errors.js';
import packageJson from '../../package.json' with { type: 'json' };
import { NoCredentialsError } from '../chain.js';
import { named } from '../provider.js';
import { defaultChain } from '../default-chain.js';
import { INNER_PROVIDER } from '../trace.js';
import { EXIT, UsageError, type CliContext, type Command, type GlobalFlags } from './context.js';
import { exportCommand } from './commands/export.js';
import { explainCommand } from './commands/explain.js';
import { execCommand } from './commands/exec.js';
import { stderrLogger } from './logger.js';
import { whoamiCommand } from './commands/whoami.js';
import { demoCommand } from './commands/demo.js';
import { cacheCommand } from './commands/cache.js';
import { serveCommand } from './commands/serve.js';
import { StatusLine, terminalTokenCode } from './prompt.js';
import type { CredentialProvider } from '../credentials.js';

const COMMANDS: readonly Command[] = [whoamiCommand, exportCommand, execCommand, serveCommand, explainCommand, cacheCommand, demoCommand];

const GLOBAL_HELP = `credchain: find AWS credentials the way the AWS CLI does

Usage: credchain [--profile NAME] [--region REGION] [--cache] [--debug] <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(9)} ${c.summary}`).join('\n')}

Global flags:
  --profile NAME   use this profile from ~/.aws/config and ~/.aws/credentials
  --region REGION  the region for STS calls
  --cache          keep role sessions on disk, shared by processes and the AWS CLI
                   (~/.aws/cli/cache, or CREDCHAIN_DISK_CACHE=DIR); off by default
  --debug          log what the providers do to stderr (never a secret)
  -h, --help       show help; "credchain <command> --help" for a command
  --version        print credchain's version

Exit codes: 0 ok, 1 no credentials (or the command failed), 2 usage error.`;

export interface RunOptions {
  stdout?: import('node:stream').Writable;
  stderr?: import('node:stream').Writable & { isTTY?: boolean };
  stdin?: import('node:stream').Readable;
  env?: NodeJS.ProcessEnv;
  /** How long a resolution runs before the status line shows (terminal stderr only). @default 300 */
  statusDelayMs?: number;
}

/** Wraps the chain so a slow resolution shows a status line on a terminal; explain still sees the chain. */
function withStatus(provider: CredentialProvider, status: StatusLine): CredentialProvider {
  const wrapped = named('default chain', () => status.during('resolving credentials', provider()));
  Object.defineProperty(wrapped, INNER_PROVIDER, { value: provider, enumerable: false });
  return wrapped;
}

/** Splits global flags (anywhere before the command's own `--`) from the command and its args. */
function splitArgs(argv: string[]): { flags: GlobalFlags; help: boolean; version: boolean; command?: string; rest: string[] } {
  const flags: GlobalFlags = { debug: false };
  let help = false;
  let version = false;
  let command: string | undefined;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    const [name, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (name === '--profile' || name === '--region') {
      const value = inline ?? argv[++i];
      if (value === undefined || value === '') throw new UsageError(`${name} needs a value`);
      flags[name === '--profile' ? 'profile' : 'region'] = value;
    } else if (name === '--debug') flags.debug = true;
    else if (name === '--cache' && inline === undefined) flags.cache = true;
    else if ((name === '--help' || name === '-h') && command === undefined) help = true;
    else if (name === '--version' && command === undefined) version = true;
    else if (command === undefined && !arg.startsWith('-')) command = arg;
    else rest.push(arg);
  }
  return { flags, help, version, ...(command !== undefined ? { command } : {}), rest };
}

/**
 * Every message printed goes through here: text from files, the environment or a server (a profile
 * name, an STS field, a Node error quoting an argument) never sends control characters to the terminal.
 */
function safe(text: string, singleLine = false): string {
  return terminalSafe(text, { singleLine });
}

/** The links a failed chain tried, in `credchain explain`'s format (reason prefixes like `env: ` dropped). */
function describeNotFound(error: unknown): string {
  if (!(error instanceof NoCredentialsError)) return safe(messageOf(error));
  const lines = error.attempts.map((a) => {
    const reason = a.reason?.startsWith(`${a.provider}: `) ? a.reason.slice(a.provider.length + 2) : a.reason;
    return `  ${a.outcome === 'skipped' ? 'skipped ' : 'FAILED  '} ${a.provider}${reason ? `: ${safe(reason).replace(/\n/g, '\n      ')}` : ''}`;
  });
  return ['No credentials resolved.', ...lines].join('\n');
}

export async function run(argv: string[], options: RunOptions = {}): Promise<number> {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const env = options.env ?? process.env;
  let split: ReturnType<typeof splitArgs>;
  try {
    split = splitArgs(argv);
  } catch (error) {
    stderr.write(`credchain: ${safe(messageOf(error))}\n\n${GLOBAL_HELP}\n`);
    return EXIT.usage;
  }
  const { flags, help, version, command: commandName, rest } = split;
  if (help && commandName === undefined) {
    stdout.write(`${GLOBAL_HELP}\n`);
    return EXIT.ok;
  }
  if (version && commandName === undefined) {
    stdout.write(`credchain ${packageJson.version}\n`);
    return EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === commandName);
  if (!command) {
    stderr.write(`${commandName === undefined ? 'credchain: no command given' : `credchain: unknown command "${safe(shortText(commandName, 100), true)}"`}\n\n${GLOBAL_HELP}\n`);
    return EXIT.usage;
  }
  // Only the command's own options: after `--` come the arguments of the command exec runs.
  const ownArgs = rest.includes('--') ? rest.slice(0, rest.indexOf('--')) : rest;
  if (ownArgs.includes('--help') || ownArgs.includes('-h') || help) {
    stdout.write(`${command.usage}\n`);
    return EXIT.ok;
  }
  const logger = flags.debug ? stderrLogger(stderr) : undefined;
  let provider: CredentialProvider | undefined;
  // Without an injected stdin, fd 0 is read directly (see terminalTokenCode): process.stdin is never opened.
  const stdin = options.stdin;
  const status = new StatusLine(stderr, options.statusDelayMs);
  let profileRegion: Promise<string | undefined> | undefined;
  const ctx: CliContext = {
    stdout,
    stderr,
    env,
    flags,
    logger,
    stdinIsTTY: stdin === undefined ? isatty(0) : (stdin as { isTTY?: boolean }).isTTY === true,
    provider: () =>
      (provider ??= withStatus(
        defaultChain({
          env,
          ...(flags.profile !== undefined ? { profile: flags.profile } : {}),
          ...(flags.region !== undefined ? { region: flags.region } : {}),
          ...(logger ? { logger } : {}),
          // --cache: CREDCHAIN_DISK_CACHE's directory when it names one, else the default.
          ...(flags.cache ? { diskCache: /^(|0|1|true|false|yes|no|on|off)$/i.test(env.CREDCHAIN_DISK_CACHE?.trim() ?? '') ? true : { dir: env.CREDCHAIN_DISK_CACHE!.trim() } } : {}),
          tokenCode: terminalTokenCode(stdin, stderr, status),
        }),
        status,
      )),
    region: async () =>
      flags.region ??
      (env.AWS_REGION || undefined) ??
      (env.AWS_DEFAULT_REGION || undefined) ??
      (await (profileRegion ??= import('../config/files.js')
        .then(({ loadSharedConfig }) => loadSharedConfig({ env, ...(flags.profile !== undefined ? { profile: flags.profile } : {}) }))
        .then((config) => config.profile?.region as string | undefined)
        .catch(() => undefined))),
  };
  try {
    return await command.run(ctx, rest);
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      stderr.write(`credchain ${command.name}: ${safe(messageOf(error))}\n\n${command.usage}\n`);
      return EXIT.usage;
    }
    if (isNotFound(error)) {
      // The chain's error already lists every link it tried: resolving again would repeat slow calls.
      stderr.write(`credchain: no credentials found.\n${describeNotFound(error)}\n`);
      return EXIT.noCredentials;
    }
    const where = error instanceof CredentialsError && error.providerName ? ` (${error.providerName})` : '';
    stderr.write(`credchain ${command.name}: ${safe(messageOf(error))}${where}\n`);
    return EXIT.noCredentials;
  }
}

const invokedDirectly = (() => {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
})();
if (invokedDirectly) {
  // `credchain demo | head`: a reader that goes away is not worth a stack trace; the command still
  // finishes (and cleans up) with its output going nowhere.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
  run(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
