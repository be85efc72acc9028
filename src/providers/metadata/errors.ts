import { CredentialsError, type CredentialsErrorOptions } from '../../errors.js';

export interface MetadataResponseErrorOptions extends CredentialsErrorOptions {
  /** The request that failed, e.g. `GET /latest/meta-data/iam/security-credentials/`. */
  request: string;
  /** The HTTP status, when an answer arrived. */
  status?: number;
  /** True when trying the same request again may help (5xx, timeouts, dropped connections). */
  retryable?: boolean;
}

/**
 * A metadata endpoint answered badly (error status, malformed or oversized body, missing fields)
 * or not at all after the first contact. The message names the request and the status; it never
 * quotes the body, which may hold credentials.
 */
export class MetadataResponseError extends CredentialsError {
  override name = 'MetadataResponseError';
  readonly request: string;
  readonly status: number | undefined;
  readonly retryable: boolean;

  constructor(message: string, options: MetadataResponseErrorOptions) {
    super(message, options);
    this.request = options.request;
    this.status = options.status;
    this.retryable = options.retryable ?? false;
  }
}

/** A metadata setting (option, environment variable or profile key) has a value we cannot use. */
export class MetadataConfigError extends CredentialsError {
  override name = 'MetadataConfigError';
  /** The option, variable or profile key at fault. */
  readonly setting: string;

  constructor(message: string, options: CredentialsErrorOptions & { setting: string }) {
    super(message, options);
    this.setting = options.setting;
  }
}
