import { describe, expect, it } from 'vitest';
import { HttpRequestError } from '../../src/http/request.js';
import { MetadataResponseError } from '../../src/providers/metadata/errors.js';
import {
  forgetAbsentMetadataEndpoints,
  hasAnswered,
  isKnownAbsent,
  meansNoMetadataService,
  rememberAbsent,
  rememberAnswered,
} from '../../src/providers/metadata/off-host.js';
import { METADATA_MAX_BODY_BYTES, parseCredentialsAnswer } from '../../src/providers/metadata/response.js';

// Tests added from the surviving mutants of `npm run mutate` (bench/MUTATION.md).
const SECRET = 'metadata-secret-value';
const good = { Code: 'Success', AccessKeyId: 'ASIAMETA', SecretAccessKey: SECRET, Token: 'tok-value', Expiration: '2030-01-01T00:00:00Z' };
const answer = (body: unknown, status = 200) => ({
  providerName: 'imds',
  request: 'GET /x',
  status,
  body: typeof body === 'string' ? body : JSON.stringify(body),
});
const failure = (body: unknown) => {
  try {
    parseCredentialsAnswer(answer(body));
  } catch (e) {
    expect(e).toBeInstanceOf(MetadataResponseError);
    expect(e).toMatchObject({ providerName: 'imds', request: 'GET /x', status: 200, retryable: false });
    expect((e as Error).message).not.toContain(SECRET);
    return (e as Error).message;
  }
  return 'no error';
};

describe('metadata/response (mutation)', () => {
  it('reads the fields, with or without Code and AccountId', () => {
    expect(METADATA_MAX_BODY_BYTES).toBe(65_536);
    const c = parseCredentialsAnswer(answer({ ...good, AccountId: '123456789012' }));
    expect({ ...c }).toEqual({
      accessKeyId: 'ASIAMETA',
      secretAccessKey: SECRET,
      sessionToken: 'tok-value',
      expiration: new Date('2030-01-01T00:00:00Z'),
      accountId: '123456789012',
    });
    const { Code: _code, ...noCode } = good;
    expect(Object.keys(parseCredentialsAnswer(answer({ ...noCode, AccountId: '' })))).toEqual([
      'accessKeyId',
      'secretAccessKey',
      'sessionToken',
      'expiration',
    ]);
    expect(parseCredentialsAnswer(answer({ ...good, AccountId: 12 })).accountId).toBeUndefined();
  });

  it('names what is wrong, never a secret', () => {
    expect(failure('not json')).toBe('imds: GET /x answered 200 with a body that is not JSON');
    expect(failure('[]')).toBe('imds: GET /x answered 200 with JSON that is not an object');
    expect(failure('null')).toBe('imds: GET /x answered 200 with JSON that is not an object');
    expect(failure('"text"')).toBe('imds: GET /x answered 200 with JSON that is not an object');
    expect(failure({ ...good, Code: 'Failure' })).toBe('imds: GET /x answered 200 with Code "Failure" instead of "Success"');
    expect(failure({ ...good, Code: 7 })).toBe('imds: GET /x answered 200 with Code "7" instead of "Success"');
    expect(failure({ ...good, Code: 'a\u001bb\u007f' + 'x'.repeat(50) })).toBe(
      `imds: GET /x answered 200 with Code ${JSON.stringify(`a?b?${'x'.repeat(36)}…`)} instead of "Success"`,
    );
    expect(failure({ ...good, Code: 'y'.repeat(40) })).toBe(`imds: GET /x answered 200 with Code "${'y'.repeat(40)}" instead of "Success"`);
    expect(failure({ ...good, AccessKeyId: '' })).toBe('imds: GET /x answered 200 with no usable AccessKeyId (each must be a non-empty string)');
    expect(failure({ Code: 'Success' })).toBe(
      'imds: GET /x answered 200 with no usable AccessKeyId, SecretAccessKey, Token, Expiration (each must be a non-empty string)',
    );
    expect(failure({ ...good, Token: 5 })).toBe('imds: GET /x answered 200 with no usable Token (each must be a non-empty string)');
    expect(failure({ ...good, Expiration: 'tomorrow' })).toBe(
      'imds: GET /x answered 200 with an Expiration that is not an ISO 8601 date-time: "tomorrow"',
    );
    expect(failure({ ...good, Expiration: '2030-13-45T99:00:00Z' })).toBe(
      'imds: GET /x answered 200 with an Expiration that is not an ISO 8601 date-time: "2030-13-45T99:00:00Z"',
    );
    expect(failure({ ...good, Expiration: 'x2030-01-01T00:00:00Z' })).toContain('not an ISO 8601');
    expect(failure({ ...good, Expiration: '2030-01-01 00:00:00Z' })).toContain('not an ISO 8601');
  });
});

describe('metadata/off-host (mutation)', () => {
  it('only a timeout or an "absent" network code means no metadata service', () => {
    expect(meansNoMetadataService(new HttpRequestError('t', 'timeout'))).toBe(true);
    for (const code of ['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'EADDRNOTAVAIL', 'ETIMEDOUT'])
      expect(meansNoMetadataService(new HttpRequestError('n', 'network', code))).toBe(true);
    expect(meansNoMetadataService(new HttpRequestError('n', 'network', 'ECONNRESET'))).toBe(false);
    expect(meansNoMetadataService(new HttpRequestError('n', 'network'))).toBe(false);
    expect(meansNoMetadataService(new HttpRequestError('n', 'aborted', 'ECONNREFUSED'))).toBe(false);
  });

  it('remembers absent endpoints until a time, and answered ones until forgotten', () => {
    forgetAbsentMetadataEndpoints();
    expect(isKnownAbsent('http://a', 0)).toBe(false);
    rememberAbsent('http://a', 1000);
    expect(isKnownAbsent('http://a', 999)).toBe(true);
    expect(isKnownAbsent('http://b', 999)).toBe(false);
    expect(isKnownAbsent('http://a', 1000)).toBe(false);
    // Forgotten once passed, even for an earlier time.
    expect(isKnownAbsent('http://a', 0)).toBe(false);
    rememberAbsent('http://a', 1000);
    rememberAnswered('http://c');
    expect(hasAnswered('http://c')).toBe(true);
    expect(hasAnswered('http://a')).toBe(false);
    forgetAbsentMetadataEndpoints();
    expect(hasAnswered('http://c')).toBe(false);
    expect(isKnownAbsent('http://a', 0)).toBe(false);
  });
});
