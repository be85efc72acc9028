import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { shortText, terminalSafe } from '../../errors.js';
import { UsageError, type Command } from '../context.js';
import { loadSharedConfig } from '../../index.js';
import { startServe, type RunningServe } from './serve.js';

/** Keys that make a profile a credential source of its own in the SDKs' chains (before container credentials). */
const PROFILE_CREDENTIAL_KEYS = ['aws_access_key_id', 'role_arn', 'credential_process', 'sso_session', 'sso_start_url', 'web_identity_token_file', 'login_session'];

/**
 * The child's SDK reads the `default` profile (AWS_PROFILE is removed): one holding credentials comes
 * before container credentials in every SDK's chain, so the server would be bypassed. Says so, once.
 */
async function defaultProfileWarning(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  try {
    const profile = (await loadSharedConfig({ env })).profile;
    const key = PROFILE_CREDENTIAL_KEYS.find((k) => profile?.[k] !== undefined);
    return key === undefined
      ? undefined
      : `credchain exec --server: the [default] profile of the shared files sets ${key}; the command's AWS SDK tries that profile before the server's container credentials, so it may not use them (move those settings to a named profile)\n`;
  } catch {
    return undefined; // a broken file is the SDK's to report
  }
}

/** Variables that would make the child's SDK use something other than the server: removed with --server. */
const STATIC_AND_PROFILE_VARIABLES = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_SECURITY_TOKEN',
  'AWS_CREDENTIAL_EXPIRATION',
  'AWS_PROFILE',
  'AWS_DEFAULT_PROFILE',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_ROLE_ARN',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', // the SDKs prefer it over FULL_URI
  'AWS_CONTAINER_AUTHORIZATION_TOKEN',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE',
];

/** Sent to one process (kill, a supervisor): passed on to the child. */
const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGUSR2'];
/**
 * Sent by the terminal to the whole foreground process group, child included, when stdin is a
 * terminal: credchain only survives them (forwarding would deliver a second Ctrl-C). Without a
 * terminal they come from `kill <pid>` and are forwarded like the others. SIGWINCH is never forwarded.
 */
const TERMINAL_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGQUIT'];

export const execCommand: Command = {
  name: 'exec',
  summary: 'run a command with the resolved credentials in its environment',
  usage: `credchain exec -- <command> [args...]
       credchain exec --server [--token-env] -- <command> [args...]

Runs the command with AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
AWS_CREDENTIAL_EXPIRATION, AWS_ACCOUNT_ID and AWS_REGION set (variables the credentials lack are
removed, so a stale token from your shell never mixes in). stdin, stdout and stderr pass through;
SIGTERM, SIGHUP and SIGUSR2 are forwarded, SIGINT and SIGQUIT too unless stdin is a terminal (the
terminal already sends them to the command); credchain exits with the command's exit code (128 + n
if signal n ended it).

--server: instead of static keys, starts \`credchain serve\` on a random loopback port for the
command's lifetime and sets AWS_CONTAINER_CREDENTIALS_FULL_URI and
AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (with --token-env, AWS_CONTAINER_AUTHORIZATION_TOKEN, for SDKs
older than the _FILE variable), so a command that runs for hours keeps getting renewed credentials.
AWS_PROFILE and the key variables are removed from its environment.`,
  async run(ctx, args) {
    let server = false;
    let tokenEnv = false;
    let i = 0;
    for (; i < args.length && args[i] !== '--'; i += 1) {
      if (args[i] === '--server') server = true;
      else if (args[i] === '--token-env') tokenEnv = true;
      else break;
    }
    if (tokenEnv && !server) throw new UsageError('--token-env goes with --server');
    args = args.slice(i);
    if (args[0] !== undefined && args[0] !== '--' && args[0].startsWith('-')) {
      throw new UsageError(`unknown option "${terminalSafe(shortText(args[0], 100), { singleLine: true })}" (the command goes after --)`);
    }
    const argv = args[0] === '--' ? args.slice(1) : args;
    if (argv.length === 0) throw new UsageError('exec needs a command after --');
    if (argv[0] === '') throw new UsageError('exec needs a command after --, not an empty string');
    const env: NodeJS.ProcessEnv = { ...ctx.env };
    const set = (name: string, value: string | undefined) => {
      if (value === undefined) delete env[name];
      else env[name] = value;
    };
    let running: RunningServe | undefined;
    if (server) {
      running = await startServe(ctx, {});
      for (const name of STATIC_AND_PROFILE_VARIABLES) set(name, undefined);
      set('AWS_CONTAINER_CREDENTIALS_FULL_URI', running.server.url);
      if (tokenEnv) set('AWS_CONTAINER_AUTHORIZATION_TOKEN', running.token.token);
      else set('AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE', running.token.file);
      const warning = await defaultProfileWarning(env);
      if (warning) ctx.stderr.write(terminalSafe(warning));
    } else {
      const credentials = await ctx.provider()();
      set('AWS_ACCESS_KEY_ID', credentials.accessKeyId);
      set('AWS_SECRET_ACCESS_KEY', credentials.secretAccessKey);
      set('AWS_SESSION_TOKEN', credentials.sessionToken);
      set('AWS_SECURITY_TOKEN', undefined); // botocore prefers the legacy name: a stale one would beat the new token
      set('AWS_CREDENTIAL_EXPIRATION', credentials.expiration?.toISOString());
      set('AWS_ACCOUNT_ID', credentials.accountId);
    }
    const region = await ctx.region();
    if (region !== undefined) {
      set('AWS_REGION', region);
      set('AWS_DEFAULT_REGION', region);
    }
    const code = await new Promise<number>((resolve) => {
      const child = spawn(argv[0]!, argv.slice(1), { env, stdio: 'inherit' });
      const forward = (signal: NodeJS.Signals) => child.kill(signal);
      const survive = () => {};
      const handlers: Array<[NodeJS.Signals, (signal: NodeJS.Signals) => void]> = [
        ...FORWARDED_SIGNALS.map((s) => [s, forward] as [NodeJS.Signals, typeof forward]),
        ...TERMINAL_SIGNALS.map((s) => [s, ctx.stdinIsTTY ? survive : forward] as [NodeJS.Signals, typeof forward]),
        ['SIGWINCH', survive],
      ];
      for (const [signal, handler] of handlers) process.on(signal, handler);
      const done = (code: number) => {
        for (const [signal, handler] of handlers) process.off(signal, handler);
        resolve(code);
      };
      child.on('error', (error: NodeJS.ErrnoException) => {
        ctx.stderr.write(`credchain exec: cannot run "${terminalSafe(argv[0]!, { singleLine: true })}": ${terminalSafe(error.code ?? error.message)}\n`);
        done(error.code === 'ENOENT' ? 127 : 126);
      });
      child.on('exit', (code, signal) => done(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0)));
    });
    await running?.stop();
    return code;
  },
};


