import { describe, expect, it } from 'vitest';
import { CLOCK_SKEW_CODES, StsError, StsValidationError, isRetryableFailure, isStsError } from '../../src/sts/errors.js';

// Tests added from the surviving mutants of `npm run mutate` (bench/MUTATION.md).
const THROTTLING = [
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
];
const TRANSIENT = [
  'IDPCommunicationError',
  'InternalFailure',
  'InternalError',
  'ServiceUnavailable',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'NetworkingError',
];

describe('sts/errors (mutation)', () => {
  it.each([...THROTTLING, ...TRANSIENT])('%s is retried whatever the status (even a 400 or none)', (code) => {
    expect(isRetryableFailure(code, 400)).toBe(true);
    expect(isRetryableFailure(code, undefined)).toBe(true);
  });

  it('other codes follow the status: 5xx and 429 retried, other 4xx and no status not, an abort never', () => {
    expect(isRetryableFailure('AccessDenied', 403)).toBe(false);
    expect(isRetryableFailure('AccessDenied', 499)).toBe(false);
    expect(isRetryableFailure('AccessDenied', 428)).toBe(false);
    expect(isRetryableFailure('AccessDenied', 430)).toBe(false);
    expect(isRetryableFailure('AccessDenied', 429)).toBe(true);
    expect(isRetryableFailure('AccessDenied', 500)).toBe(true);
    expect(isRetryableFailure('AccessDenied', 503)).toBe(true);
    expect(isRetryableFailure('AccessDenied', undefined)).toBe(false);
    expect(isRetryableFailure('RequestAborted', 500)).toBe(false);
    expect(isRetryableFailure('', 400)).toBe(false);
  });

  it('knows the clock-skew codes, and only those', () => {
    expect([...CLOCK_SKEW_CODES].sort()).toEqual(
      ['InvalidSignatureException', 'RequestExpired', 'RequestInTheFuture', 'RequestTimeTooSkewed', 'SignatureDoesNotMatch'],
    );
  });

  it('StsError: message with status and request id, each optional; fields and JSON', () => {
    const full = new StsError({ code: 'AccessDenied', serviceMessage: 'no', operation: 'AssumeRole', statusCode: 403, requestId: 'r-1', type: 'Sender', cause: 'c' });
    expect(full.name).toBe('StsError');
    expect(full.message).toBe('STS AssumeRole failed: AccessDenied: no (HTTP 403, request id r-1)');
    expect(full.providerName).toBe('sts');
    expect(full.cause).toBe('c');
    expect(full).toMatchObject({ code: 'AccessDenied', statusCode: 403, requestId: 'r-1', operation: 'AssumeRole', serviceMessage: 'no', type: 'Sender', retryable: false });
    expect(JSON.parse(JSON.stringify(full))).toEqual({
      name: 'StsError',
      message: full.message,
      providerName: 'sts',
      code: 'AccessDenied',
      operation: 'AssumeRole',
      statusCode: 403,
      requestId: 'r-1',
      retryable: false,
    });
    expect(new StsError({ code: 'X', serviceMessage: 'm', operation: 'Op', statusCode: 500 }).message).toBe('STS Op failed: X: m (HTTP 500)');
    expect(new StsError({ code: 'X', serviceMessage: 'm', operation: 'Op', requestId: 'q' }).message).toBe('STS Op failed: X: m (request id q)');
    const bare = new StsError({ code: 'X', serviceMessage: 'm', operation: 'Op' });
    expect(bare.message).toBe('STS Op failed: X: m');
    expect(bare.retryable).toBe(false);
    expect(new StsError({ code: 'X', serviceMessage: 'm', operation: 'Op', statusCode: 502 }).retryable).toBe(true);
  });

  it('isStsError: any StsError without codes, else only the listed codes', () => {
    const error = new StsError({ code: 'ExpiredToken', serviceMessage: 'm', operation: 'Op' });
    expect(isStsError(error)).toBe(true);
    expect(isStsError(error, 'ExpiredToken')).toBe(true);
    expect(isStsError(error, 'AccessDenied', 'ExpiredToken')).toBe(true);
    expect(isStsError(error, 'AccessDenied')).toBe(false);
    expect(isStsError(new Error('x'))).toBe(false);
    expect(isStsError(new StsValidationError('Op', 'P', 'rule'))).toBe(false);
  });

  it('StsValidationError names the operation, parameter and rule', () => {
    const error = new StsValidationError('AssumeRole', 'Tags[3].Key', 'must be at most 128 characters');
    expect(error.name).toBe('StsValidationError');
    expect(error.code).toBe('ValidationError');
    expect(error.providerName).toBe('sts');
    expect(error.message).toBe('STS AssumeRole: invalid parameter Tags[3].Key: must be at most 128 characters');
    expect(error).toMatchObject({ operation: 'AssumeRole', parameter: 'Tags[3].Key', rule: 'must be at most 128 characters' });
  });
});
