const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/**
 * C0 controls but tab and newline, DEL, the C1 controls (U+0080-U+009F, e.g. the one-byte CSI) and
 * the bidirectional overrides: what lets text from a file, the environment or a server move the
 * cursor, recolour, retitle or reorder a terminal.
 */
// eslint-disable-next-line no-control-regex
const TERMINAL_CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex
const TERMINAL_CONTROLS_AND_LINES = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text made harmless for a terminal: every control character (see above) becomes `?`. Newlines and
 * tabs stay unless `singleLine`, which also turns them into `?` (one field, one line).
 */
export function terminalSafe(text: string, options: { singleLine?: boolean } = {}): string {
  return text.replace(options.singleLine ? TERMINAL_CONTROLS_AND_LINES : TERMINAL_CONTROLS, '?');
}

/** A value quoted in a message, cut to `maxChars` (a profile name from a 1 MB variable stays short). */
export function shortText(text: string, maxChars = 200): string {
  return text.length > maxChars ? `${text.slice(0, maxChars)}… (${text.length} characters)` : text;
}

/** `a, b, c, d, e and 199995 more`: a list for a message, at most `max` items shown. */
export function shortList(items: readonly string[], max = 5): string {
  const shown = items.slice(0, max).map((item) => shortText(item, 100));
  return items.length > max ? `${shown.join(', ')} and ${items.length - max} more` : shown.join(', ');
}

export interface CredentialsErrorOptions {
  /** The provider that failed, e.g. `env`, `ini`, `assume-role`. */
  providerName?: string;
  cause?: unknown;
}

/**
 * Base class of every error credchain throws. Messages name the provider, the setting at fault and
 * the fix; they never hold a secret, and printing one (`util.inspect`, `JSON.stringify`) shows only
 * the name, message, provider and code. Control characters in the message (from a profile name, a
 * file, a server answer) are neutralised (`terminalSafe`), so printing one is safe on a terminal.
 */
export class CredentialsError extends Error {
  override name = 'CredentialsError';
  readonly providerName: string | undefined;

  constructor(message: string, options: CredentialsErrorOptions = {}) {
    super(terminalSafe(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.providerName = options.providerName;
  }

  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { name: this.name, message: this.message };
    if (this.providerName !== undefined) out.providerName = this.providerName;
    const code = (this as { code?: unknown }).code;
    if (code !== undefined) out.code = code;
    return out;
  }

  [INSPECT](): string {
    return this.stack ?? `${this.name}: ${this.message}`;
  }
}

/**
 * "This provider does not apply here, try the next one." Only this error moves a chain on to its
 * next provider; every other error is a real failure and stops the chain.
 */
export class CredentialsNotFound extends CredentialsError {
  override name = 'CredentialsNotFound';
}
/** Alias following the `...Error` naming habit. */
export { CredentialsNotFound as CredentialsNotFoundError };

/** True for errors that mean "try the next provider". */
export function isNotFound(error: unknown): error is CredentialsNotFound {
  return error instanceof CredentialsNotFound;
}

/** The message of an unknown thrown value, for wrapping in our own errors. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
