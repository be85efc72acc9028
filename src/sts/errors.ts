import { CredentialsError } from '../errors.js';

/**
 * Error codes STS documents for its operations (the `Code` in its error XML), plus the common
 * Query API errors every AWS service can return. `code` stays a plain string so codes STS adds
 * later still come through.
 */
export type StsServiceErrorCode =
  | 'ExpiredTokenException'
  | 'ExpiredToken'
  | 'InvalidIdentityToken'
  | 'IDPRejectedClaim'
  | 'IDPCommunicationError'
  | 'MalformedPolicyDocument'
  | 'PackedPolicyTooLarge'
  | 'RegionDisabledException'
  | 'InvalidAuthorizationMessageException'
  | 'AccessDenied'
  | 'Throttling'
  | 'SignatureDoesNotMatch'
  | 'InvalidClientTokenId'
  | 'RequestExpired'
  | 'RequestTimeTooSkewed'
  | 'IncompleteSignature'
  | 'MissingAuthenticationToken'
  | 'InvalidParameterValue'
  | 'MissingParameter'
  | 'ValidationError'
  | 'InvalidAction'
  | 'InternalFailure'
  | 'ServiceUnavailable';

/** Codes for failures that never got an STS error document. */
export type StsClientErrorCode =
  /** The body was empty, not XML, truncated, or XML without the expected result element. */
  | 'InvalidResponse'
  /** The per-attempt timeout passed before the response was complete. */
  | 'TimeoutError'
  /** The connection failed (refused, reset, DNS...). */
  | 'NetworkingError'
  /** The caller's `AbortSignal` fired. */
  | 'RequestAborted';

export type StsErrorCode = StsServiceErrorCode | StsClientErrorCode | (string & {});

const THROTTLING_CODES = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'SlowDown',
  'PriorRequestNotComplete',
  'BandwidthLimitExceeded',
  'LimitExceededException',
  'EC2ThrottledException',
  'ProvisionedThroughputExceededException',
  'TransactionInProgressException',
]);
const TRANSIENT_CODES = new Set([
  'IDPCommunicationError',
  'InternalFailure',
  'InternalError',
  'ServiceUnavailable',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'NetworkingError',
]);
/** Codes that mean "our clock is off": worth one retry after adopting the server's time. */
export const CLOCK_SKEW_CODES: ReadonlySet<string> = new Set([
  'RequestTimeTooSkewed',
  'RequestExpired',
  'SignatureDoesNotMatch',
  'InvalidSignatureException',
  'RequestInTheFuture',
]);

/** Throttling, 5xx, 429, `IDPCommunicationError`, network errors and timeouts are retried; other 4xx never are. */
export function isRetryableFailure(code: string, statusCode: number | undefined): boolean {
  if (THROTTLING_CODES.has(code) || TRANSIENT_CODES.has(code)) return true;
  if (code === 'RequestAborted') return false;
  return statusCode !== undefined && (statusCode >= 500 || statusCode === 429);
}

export interface StsErrorInit {
  code: StsErrorCode;
  /** What STS (or the transport) said, without our prefix. */
  serviceMessage: string;
  operation: string;
  statusCode?: number;
  requestId?: string;
  /** `Sender` or `Receiver` from the error XML. */
  type?: string;
  cause?: unknown;
}

/**
 * A failed STS call: an STS error response, an unreadable response, a timeout, a network error or
 * an abort. `code` discriminates (`err.code === 'ExpiredToken'`); `retryable` says whether the
 * client retried it (and whether a caller may sensibly try again).
 */
export class StsError extends CredentialsError {
  override name = 'StsError';
  readonly code: StsErrorCode;
  readonly statusCode: number | undefined;
  readonly requestId: string | undefined;
  readonly operation: string;
  readonly serviceMessage: string;
  readonly type: string | undefined;
  readonly retryable: boolean;

  constructor(init: StsErrorInit) {
    const details = [
      init.statusCode !== undefined ? `HTTP ${init.statusCode}` : undefined,
      init.requestId !== undefined ? `request id ${init.requestId}` : undefined,
    ].filter(Boolean);
    super(
      `STS ${init.operation} failed: ${init.code}: ${init.serviceMessage}${details.length ? ` (${details.join(', ')})` : ''}`,
      { providerName: 'sts', cause: init.cause },
    );
    this.code = init.code;
    this.statusCode = init.statusCode;
    this.requestId = init.requestId;
    this.operation = init.operation;
    this.serviceMessage = init.serviceMessage;
    this.type = init.type;
    this.retryable = isRetryableFailure(init.code, init.statusCode);
  }

  override toJSON(): Record<string, unknown> {
    return {
      ...super.toJSON(),
      operation: this.operation,
      statusCode: this.statusCode,
      requestId: this.requestId,
      retryable: this.retryable,
    };
  }
}

/** True when `error` is an `StsError`, optionally with one of the given codes. */
export function isStsError(error: unknown, ...codes: StsErrorCode[]): error is StsError {
  return error instanceof StsError && (codes.length === 0 || codes.includes(error.code));
}

/**
 * An input that breaks a rule STS documents, caught before anything is sent. Names the operation,
 * the parameter (`Tags[3].Key`) and the rule; never echoes the value (it may be a token).
 */
export class StsValidationError extends CredentialsError {
  override name = 'StsValidationError';
  readonly code = 'ValidationError';
  constructor(
    readonly operation: string,
    readonly parameter: string,
    readonly rule: string,
  ) {
    super(`STS ${operation}: invalid parameter ${parameter}: ${rule}`, { providerName: 'sts' });
  }
}
