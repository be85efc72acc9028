import type { Credentials } from '../../credentials.js';
import { CredentialsError, shortText, terminalSafe } from '../../errors.js';
import { EXIT, UsageError, type Command } from '../context.js';
import { parseArgs } from 'node:util';

/**
 * `credchain export --format …`: the formats of `aws configure export-credentials` (`env`,
 * `env-no-export`, `powershell`, `windows-cmd`, `fish`, `process`) plus `json`. The shell formats set
 * the same variables as the AWS CLI plus `AWS_ACCOUNT_ID`, but unlike it they quote every value for
 * the target shell (the CLI prints values as they are) and clear the variables the credentials lack,
 * (and always the legacy `AWS_SECURITY_TOKEN`, which botocore would prefer), so evaluating the
 * output over an older session leaves no stale token behind.
 */
export const FORMATS = ['env', 'env-no-export', 'fish', 'powershell', 'windows-cmd', 'json', 'process'] as const;
export type Format = (typeof FORMATS)[number];
type ShellFormat = Exclude<Format, 'json' | 'process'>;

/** POSIX sh: single quotes keep everything literal; a `'` is closed, escaped and reopened. */
const posixQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

/** fish: inside single quotes only `\\` and `\'` are escapes; nothing expands. */
const fishQuote = (value: string) => `'${value.replace(/[\\']/g, '\\$&')}'`;

/**
 * PowerShell: a verbatim (single-quoted) string expands nothing (`$`, backtick); a quote is doubled.
 * PowerShell also ends such a string at the typographic single quotes U+2018–U+201B, so those are
 * doubled too. (The AWS CLI writes `"value"`, in which `$` and backticks would expand.)
 */
const powershellQuote = (value: string) => `'${value.replace(/['\u2018\u2019\u201a\u201b]/g, '$&$&')}'`;

/**
 * cmd.exe: `set "NAME=value"` keeps `& | < > ^ ( )` literal. `%` (expanded at the prompt and in batch
 * files, with no escape that works in both), `!` (delayed expansion), `"` and line breaks cannot be
 * carried safely, so such a value is refused rather than printed wrong. Real AWS keys and tokens hold none.
 */
const CMD_UNSAFE = /["%!\x00-\x1f\x7f]/;

const LINES: Record<ShellFormat, { set: (name: string, value: string) => string; unset: (name: string) => string; eol: string }> = {
  env: { set: (n, v) => `export ${n}=${posixQuote(v)}`, unset: (n) => `unset ${n}`, eol: '\n' },
  'env-no-export': { set: (n, v) => `${n}=${posixQuote(v)}`, unset: (n) => `unset ${n}`, eol: '\n' },
  fish: { set: (n, v) => `set -gx ${n} ${fishQuote(v)}`, unset: (n) => `set -e ${n}`, eol: '\n' },
  powershell: {
    set: (n, v) => `$Env:${n}=${powershellQuote(v)}`,
    unset: (n) => `Remove-Item -Path Env:${n} -ErrorAction SilentlyContinue`,
    eol: '\n',
  },
  // CRLF: cmd.exe's own line ending (batch files with bare LF have parsing bugs); `for /f` drops the CR.
  'windows-cmd': { set: (n, v) => `set "${n}=${v}"`, unset: (n) => `set "${n}="`, eol: '\r\n' },
};

function shellLines(c: Credentials, format: ShellFormat): string {
  const vars: Array<[string, string | undefined]> = [
    ['AWS_ACCESS_KEY_ID', c.accessKeyId],
    ['AWS_SECRET_ACCESS_KEY', c.secretAccessKey],
    ['AWS_SESSION_TOKEN', c.sessionToken],
    ['AWS_CREDENTIAL_EXPIRATION', c.expiration?.toISOString()],
    ['AWS_ACCOUNT_ID', c.accountId],
    // Always cleared: botocore reads the legacy name before AWS_SESSION_TOKEN, so a leftover one would win.
    ['AWS_SECURITY_TOKEN', undefined],
  ];
  const { set, unset, eol } = LINES[format];
  return vars
    .map(([name, value]) => {
      if (value === undefined) return `${unset(name)}${eol}`;
      // Never the value in the message: it may be the secret.
      if (value.includes('\0')) throw new CredentialsError(`${name} holds a NUL character, which no environment variable can hold`);
      if (format === 'windows-cmd' && CMD_UNSAFE.test(value)) {
        throw new CredentialsError(
          `${name} holds a character cmd.exe cannot be given safely (one of " % ! or a line break or control character); ` +
            'use --format powershell or --format json instead',
        );
      }
      return `${set(name, value)}${eol}`;
    })
    .join('');
}

export function formatCredentials(c: Credentials, format: Format): string {
  if (format !== 'json' && format !== 'process') return shellLines(c, format);
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
  summary: 'print the resolved credentials as shell variables (sh, fish, PowerShell, cmd), JSON, or credential_process JSON',
  usage: `credchain export [--format env|env-no-export|fish|powershell|windows-cmd|json|process]

  --format env            export AWS_ACCESS_KEY_ID='...' lines for eval "$(credchain export)" (default)
  --format env-no-export  AWS_ACCESS_KEY_ID='...' lines (sh/bash/zsh variables, not exported)
  --format fish           set -gx AWS_ACCESS_KEY_ID '...' lines: credchain export --format fish | source
  --format powershell     $Env:AWS_ACCESS_KEY_ID='...' lines:
                          credchain export --format powershell | Invoke-Expression
  --format windows-cmd    set "AWS_ACCESS_KEY_ID=..." lines for cmd.exe (refuses values holding " % ! or
                          line breaks, which cmd cannot be given safely)
  --format json           a JSON object with AccessKeyId, SecretAccessKey, SessionToken, Expiration
  --format process        the credential_process JSON (Version 1), for
                          credential_process = credchain export --format process --profile src

The shell formats set AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
AWS_CREDENTIAL_EXPIRATION and AWS_ACCOUNT_ID, each value quoted for that shell, and clear the ones the
credentials lack (and the legacy AWS_SECURITY_TOKEN). Prints secrets on purpose: it is the one command meant to hand them over.`,
  async run(ctx, args) {
    const { values } = parseArgs({ args, options: { format: { type: 'string', default: 'env' } }, strict: true, allowPositionals: false });
    const format = values.format as Format;
    if (!FORMATS.includes(format)) throw new UsageError(`unknown --format "${terminalSafe(shortText(format, 100), { singleLine: true })}": use ${FORMATS.join(', ')}`);
    const credentials = await ctx.provider()();
    ctx.stdout.write(formatCredentials(credentials, format));
    return EXIT.ok;
  },
};
