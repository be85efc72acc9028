import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { UsageError, type Command } from '../context.js';

const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

export const execCommand: Command = {
  name: 'exec',
  summary: 'run a command with the resolved credentials in its environment',
  usage: `credchain exec -- <command> [args...]

Runs the command with AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
AWS_CREDENTIAL_EXPIRATION and AWS_REGION set (variables the credentials lack are removed, so
a stale token from your shell never mixes in). stdin, stdout and stderr pass through, signals
are forwarded, and credchain exits with the command's exit code (128 + n if signal n ended it).`,
  async run(ctx, args) {
    const argv = args[0] === '--' ? args.slice(1) : args;
    if (argv.length === 0) throw new UsageError('exec needs a command after --');
    const credentials = await ctx.provider()();
    const region = await ctx.region();
    const env: NodeJS.ProcessEnv = { ...ctx.env };
    const set = (name: string, value: string | undefined) => {
      if (value === undefined) delete env[name];
      else env[name] = value;
    };
    set('AWS_ACCESS_KEY_ID', credentials.accessKeyId);
    set('AWS_SECRET_ACCESS_KEY', credentials.secretAccessKey);
    set('AWS_SESSION_TOKEN', credentials.sessionToken);
    set('AWS_CREDENTIAL_EXPIRATION', credentials.expiration?.toISOString());
    if (credentials.accountId !== undefined) set('AWS_ACCOUNT_ID', credentials.accountId);
    if (region !== undefined) {
      set('AWS_REGION', region);
      set('AWS_DEFAULT_REGION', region);
    }
    return new Promise<number>((resolve) => {
      const child = spawn(argv[0]!, argv.slice(1), { env, stdio: 'inherit' });
      const forward = (signal: NodeJS.Signals) => child.kill(signal);
      for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
      const done = (code: number) => {
        for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
        resolve(code);
      };
      child.on('error', (error: NodeJS.ErrnoException) => {
        ctx.stderr.write(`credchain exec: cannot run "${argv[0]}": ${error.code ?? error.message}\n`);
        done(error.code === 'ENOENT' ? 127 : 126);
      });
      child.on('exit', (code, signal) => done(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0)));
    });
  },
};


