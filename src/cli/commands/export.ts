import type { Credentials } from '../../credentials.js';
import { shortText, terminalSafe } from '../../errors.js';
import { EXIT, UsageError, type Command } from '../context.js';
import { parseArgs } from 'node:util';

type Format = 'env' | 'json' | 'process';

/** Single-quotes a value for POSIX shells. */
const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

export function formatCredentials(c: Credentials, format: Format): string {
  if (format === 'env') {
    const vars: Array<[string, string | undefined]> = [
      ['AWS_ACCESS_KEY_ID', c.accessKeyId],
      ['AWS_SECRET_ACCESS_KEY', c.secretAccessKey],
      ['AWS_SESSION_TOKEN', c.sessionToken],
      ['AWS_CREDENTIAL_EXPIRATION', c.expiration?.toISOString()],
      ['AWS_ACCOUNT_ID', c.accountId],
    ];
    // `unset` for what the credentials lack, so eval in a shell with an older session leaves no stale token.
    return vars.map(([k, v]) => (v === undefined ? `unset ${k}\n` : `export ${k}=${shellQuote(v)}\n`)).join('');
  }
  const fields = {
    AccessKeyId: c.accessKeyId,
    SecretAccessKey: c.secretAccessKey,
    ...(c.sessionToken !== undefined ? { SessionToken: c.sessionToken } : {}),
    ...(c.expiration !== undefined ? { Expiration: c.expiration.toISOString() } : {}),
    ...(c.accountId !== undefined ? { AccountId: c.accountId } : {}),
  };
  // The credential_process contract (Version 1) that the AWS CLI and SDKs read.
  return `${JSON.stringify(format === 'process' ? { Version: 1, ...fields } : fields, null, format === 'json' ? 2 : undefined)}\n`;
}

export const exportCommand: Command = {
  name: 'export',
  summary: 'print the resolved credentials as shell exports, JSON, or credential_process JSON',
  usage: `credchain export [--format env|json|process]

  --format env       export AWS_ACCESS_KEY_ID=... lines for eval "$(credchain export)" (default),
                     with unset lines for the variables the credentials lack
  --format json      a JSON object with AccessKeyId, SecretAccessKey, SessionToken, Expiration
  --format process   the credential_process JSON (Version 1), for
                     credential_process = credchain export --format process --profile src

Prints secrets on purpose: it is the one command meant to hand them over.`,
  async run(ctx, args) {
    const { values } = parseArgs({ args, options: { format: { type: 'string', default: 'env' } }, strict: true, allowPositionals: false });
    const format = values.format as Format;
    if (!['env', 'json', 'process'].includes(format)) throw new UsageError(`unknown --format "${terminalSafe(shortText(format, 100), { singleLine: true })}": use env, json or process`);
    const credentials = await ctx.provider()();
    ctx.stdout.write(formatCredentials(credentials, format));
    return EXIT.ok;
  },
};
