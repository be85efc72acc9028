import { parseArgs } from 'node:util';
import { defaultChain } from '../../index.js';
import type { Logger } from '../../logger.js';
import { isLoopbackHost, startCredentialServer, type CredentialServer } from '../../serve/server.js';
import { loadOrCreateToken, type ServerToken } from '../../serve/token.js';
import { EXIT, UsageError, type CliContext, type Command } from '../context.js';
import { stderrLogger } from '../logger.js';

export interface ServeSettings {
  readonly host?: string;
  readonly port?: number;
  readonly tokenFile?: string;
  readonly allowRemote?: boolean;
  readonly minRemainingMs?: number;
}

export interface RunningServe {
  readonly server: CredentialServer;
  readonly token: ServerToken;
  /** Closes the server and removes a generated temp token file. */
  stop(): Promise<void>;
}

/** Warnings and errors always (a server has no other voice), debug lines with --debug; never a secret. */
export function serveLogger(ctx: CliContext): Logger {
  const lines = stderrLogger(ctx.stderr);
  return { debug: ctx.flags.debug ? lines.debug : () => {}, info: lines.info, warn: lines.warn, error: lines.error };
}

/**
 * Resolves the CLI's chain once (a failure stops here, before anything listens), then serves it.
 * Shared by `serve` and `exec --server`.
 */
export async function startServe(ctx: CliContext, settings: ServeSettings, logger: Logger = serveLogger(ctx)): Promise<RunningServe> {
  const host = settings.host ?? '127.0.0.1';
  if (!isLoopbackHost(host) && !settings.allowRemote) {
    throw new UsageError(`--host ${host} is not a loopback address: add --allow-remote to listen on it (plain HTTP, see the README)`);
  }
  // Its own chain (not ctx.provider()): the server needs the cache's invalidate() to renew ahead of
  // the clients' margin, and no terminal prompt (an MFA profile fails with a clear message instead).
  const provider = defaultChain({
    env: ctx.env,
    ...(ctx.flags.profile !== undefined ? { profile: ctx.flags.profile } : {}),
    ...(ctx.flags.region !== undefined ? { region: ctx.flags.region } : {}),
    logger,
  });
  await provider();
  const token = loadOrCreateToken(settings.tokenFile);
  if (token.warning) logger.warn?.(`serve: ${token.warning}`);
  let server: CredentialServer;
  try {
    server = await startCredentialServer({
      provider,
      token: token.token,
      host,
      port: settings.port ?? 0,
      allowRemote: settings.allowRemote === true,
      ...(settings.minRemainingMs !== undefined ? { minRemainingMs: settings.minRemainingMs } : {}),
      logger,
    });
  } catch (error) {
    token.remove();
    throw error;
  }
  return {
    server,
    token,
    async stop() {
      await server.close();
      token.remove();
    },
  };
}

function parsePort(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 65_535) throw new UsageError(`--port must be a port number from 0 to 65535 (got "${text.slice(0, 20)}")`);
  return n;
}

export const serveCommand: Command = {
  name: 'serve',
  summary: 'serve one refreshing session to every local AWS SDK (container credentials)',
  usage: `credchain serve [--port N] [--host 127.0.0.1] [--token-file F] [--allow-remote] [--min-remaining SECONDS]

Serves the resolved credentials (the default chain, or --profile) over the container-credentials
protocol that every AWS SDK and the AWS CLI understand. Once listening it prints one JSON line,
{"url": ..., "tokenFile": ...}; point clients at it with

  AWS_CONTAINER_CREDENTIALS_FULL_URI=<url> AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=<tokenFile>

  --port N             port to listen on (default: a random free port)
  --host ADDR          address to bind (default 127.0.0.1); anything but loopback needs --allow-remote
  --token-file F       read the token from F, or write a new one there (mode 0600) if F does not exist;
                       default: a new token in a temp dir, removed on exit
  --min-remaining S    least lifetime left on served credentials, else renew first
                       (default 660: botocore's 10-minute refresh window plus one; at most half the lifetime)

GET /healthz (no token) answers {"state": "fresh|advisory|failing|expired", "expiration": ...}: 200, or
503 when nothing valid is held. SIGTERM or SIGINT stop it gracefully.`,
  async run(ctx, args) {
    const { values, positionals } = parseArgs({
      args,
      strict: true,
      allowPositionals: true,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'token-file': { type: 'string' },
        'allow-remote': { type: 'boolean' },
        'min-remaining': { type: 'string' },
      },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]!.slice(0, 100)}"`);
    const minRemaining = values['min-remaining'];
    if (minRemaining !== undefined && !/^\d+$/.test(minRemaining)) throw new UsageError('--min-remaining must be a whole number of seconds');
    const port = parsePort(values.port);
    const logger = serveLogger(ctx);
    const running = await startServe(
      ctx,
      {
        ...(values.host !== undefined ? { host: values.host } : {}),
        ...(port !== undefined ? { port } : {}),
        ...(values['token-file'] !== undefined ? { tokenFile: values['token-file'] } : {}),
        allowRemote: values['allow-remote'] === true,
        ...(minRemaining !== undefined ? { minRemainingMs: Number(minRemaining) * 1000 } : {}),
      },
      logger,
    );
    // Listening for the stop signals before the line goes out: whoever reads it may signal at once.
    const signal = new Promise<NodeJS.Signals>((resolve) => {
      const stopOn = (s: NodeJS.Signals) => {
        process.off('SIGTERM', stopOn);
        process.off('SIGINT', stopOn);
        resolve(s);
      };
      process.on('SIGTERM', stopOn);
      process.on('SIGINT', stopOn);
    });
    ctx.stdout.write(`${JSON.stringify({ url: running.server.url, tokenFile: running.token.file })}\n`);
    await signal.then((s) => logger.info?.(`serve: ${s} received, stopping`));
    await running.stop();
    return EXIT.ok;
  },
};
