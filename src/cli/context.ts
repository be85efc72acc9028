import type { Writable } from 'node:stream';
import type { CredentialProvider } from '../credentials.js';
import type { Logger } from '../logger.js';
import { shortText, terminalSafe } from '../errors.js';

/** Exit codes: 0 ok, 1 no credentials (or the command failed), 2 usage. */
export const EXIT = { ok: 0, noCredentials: 1, usage: 2 } as const;

export interface GlobalFlags {
  profile?: string;
  region?: string;
  debug: boolean;
  /** --cache: keep sessions on disk (CREDCHAIN_DISK_CACHE names the directory, else ~/.aws/cli/cache). */
  cache?: boolean;
}

/** Everything a command touches, injectable so commands run in-process in tests. */
export interface CliContext {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly env: NodeJS.ProcessEnv;
  readonly flags: GlobalFlags;
  readonly logger: Logger | undefined;
  /** Whether stdin is a terminal: then Ctrl-C already reaches `exec`'s child through the process group. */
  readonly stdinIsTTY: boolean;
  /** The provider the command resolves (the default chain, honouring --profile and --region). */
  provider(): CredentialProvider;
  /** The region: --region, then AWS_REGION, then AWS_DEFAULT_REGION, then the profile's `region`. */
  region(): Promise<string | undefined>;
}

export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  run(ctx: CliContext, args: string[]): Promise<number>;
}

/** A usage error: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * For a command that takes no options or arguments: any left is a usage error (`explain --json`,
 * `whoami extra`) instead of being silently ignored.
 */
export function expectNoArgs(args: readonly string[]): void {
  const first = args[0];
  if (first === undefined) return;
  const shown = terminalSafe(shortText(first, 100), { singleLine: true });
  throw new UsageError(first.startsWith('-') && first !== '-' ? `unknown option "${shown}"` : `unexpected argument "${shown}"`);
}
