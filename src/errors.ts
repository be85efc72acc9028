const INSPECT = Symbol.for('nodejs.util.inspect.custom');

export interface CredentialsErrorOptions {
  /** The provider that failed, e.g. `env`, `ini`, `assume-role`. */
  providerName?: string;
  cause?: unknown;
}

/**
 * Base class of every error credchain throws. Messages name the provider, the setting at fault and
 * the fix; they never hold a secret, and printing one (`util.inspect`, `JSON.stringify`) shows only
 * the name, message, provider and code.
 */
export class CredentialsError extends Error {
  override name = 'CredentialsError';
  readonly providerName: string | undefined;

  constructor(message: string, options: CredentialsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
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
