import { CredentialsError, messageOf } from '../../errors.js';
import { StsError, StsValidationError } from '../../sts/index.js';

export interface StsCredentialsErrorInit {
  providerName: string;
  /** What was asked for, e.g. `role arn:aws:iam::123456789012:role/deploy` or `federated user app`. */
  subject: string;
  code: string;
  operation: string;
  roleArn?: string;
  requestId?: string;
  statusCode?: number;
  retryable?: boolean;
  detail: string;
  cause?: unknown;
}

/**
 * An STS-backed provider could not get its session: STS refused (`AccessDenied`,
 * `InvalidIdentityToken`, `IDPRejectedClaim`, `MalformedPolicyDocument`...), a parameter broke a
 * documented rule, or the call never got an answer. The message names the provider, the role (or
 * federated user) and the STS code; it never holds a token, assertion or key. The `StsError` is
 * kept as `cause`.
 */
export class StsCredentialsError extends CredentialsError {
  override name = 'StsCredentialsError';
  readonly code: string;
  readonly operation: string;
  readonly roleArn: string | undefined;
  readonly requestId: string | undefined;
  readonly statusCode: number | undefined;
  /** True when trying again later may help (throttling, 5xx, network). */
  readonly retryable: boolean;

  constructor(init: StsCredentialsErrorInit) {
    super(`${init.providerName}: STS ${init.operation} for ${init.subject} failed: ${init.code}: ${init.detail}`, {
      providerName: init.providerName,
      cause: init.cause,
    });
    this.code = init.code;
    this.operation = init.operation;
    this.roleArn = init.roleArn;
    this.requestId = init.requestId;
    this.statusCode = init.statusCode;
    this.retryable = init.retryable ?? false;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), operation: this.operation, roleArn: this.roleArn, requestId: this.requestId };
  }
}

/** What a failed STS call is about, for error messages. */
export interface StsCallSubject {
  providerName: string;
  operation: string;
  roleArn?: string;
  /** Used when there is no role, e.g. `federated user app`. */
  subject?: string;
}

/** Turns STS client errors into `StsCredentialsError`; anything else passes through unchanged. */
export function toProviderError(error: unknown, about: StsCallSubject): unknown {
  const subject = about.roleArn !== undefined ? `role ${about.roleArn}` : (about.subject ?? 'the session');
  const base = { providerName: about.providerName, subject, operation: about.operation, cause: error, ...(about.roleArn !== undefined ? { roleArn: about.roleArn } : {}) };
  if (error instanceof StsError) {
    const details = [error.statusCode !== undefined ? `HTTP ${error.statusCode}` : undefined, error.requestId ? `request id ${error.requestId}` : undefined].filter(Boolean);
    return new StsCredentialsError({
      ...base,
      code: error.code,
      detail: `${error.serviceMessage}${details.length ? ` (${details.join(', ')})` : ''}`,
      retryable: error.retryable,
      ...(error.requestId !== undefined ? { requestId: error.requestId } : {}),
      ...(error.statusCode !== undefined ? { statusCode: error.statusCode } : {}),
    });
  }
  if (error instanceof StsValidationError) {
    return new StsCredentialsError({ ...base, code: error.code, detail: `invalid parameter ${error.parameter}: ${error.rule}` });
  }
  return error;
}

/** A provider-level configuration error (bad options), thrown when the provider is created. */
export function optionError(providerName: string, fn: string, what: string): CredentialsError {
  return new CredentialsError(`${fn}(): ${what}`, { providerName });
}

/** `roleArn` must be a non-empty string: checked when the provider is created. */
export function checkRoleArn(providerName: string, fn: string, roleArn: unknown): asserts roleArn is string {
  if (typeof roleArn !== 'string' || roleArn.trim() === '') throw optionError(providerName, fn, 'roleArn is missing or empty');
}

/** Wraps a failure of a user callback (`tokenCode`, `getToken`, `samlAssertion`) without losing it. */
export function callbackError(providerName: string, what: string, error: unknown): CredentialsError {
  return new CredentialsError(`${providerName}: ${what} failed: ${messageOf(error)}`, { providerName, cause: error });
}
