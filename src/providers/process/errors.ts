import { CredentialsError } from '../../errors.js';

/** Why a credential_process run failed. */
export type ProcessFailure = 'command-line' | 'spawn' | 'exit' | 'signal' | 'timeout' | 'output';

export class ProcessCredentialsError extends CredentialsError {
  override name = 'ProcessCredentialsError';
  readonly reason: ProcessFailure;
  readonly exitCode: number | undefined;

  constructor(message: string, reason: ProcessFailure, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, { providerName: 'process', cause: options.cause });
    this.reason = reason;
    this.exitCode = options.exitCode;
  }
}
