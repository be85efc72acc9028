import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { isExpired, makeCredentials, maskAccessKeyId, maskUrl, maskedView } from '../../src/credentials.js';

// Tests added from the surviving mutants of `npm run mutate` (bench/MUTATION.md).
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const TOKEN = 'session-token-value';

describe('credentials (mutation)', () => {
  it('maskAccessKeyId keeps the last four characters only', () => {
    expect(maskAccessKeyId('AKIAIOSFODNN7EXAMPLE')).toBe('****MPLE');
    expect(maskAccessKeyId('AB')).toBe('****AB');
  });

  it('maskUrl hides user-info with and without a scheme, and nothing else', () => {
    expect(maskUrl('https://user:pass@host/x')).toBe('https://****@host/x');
    expect(maskUrl('https://a@b@host/x?y=@z')).toBe('https://****@host/x?y=@z');
    expect(maskUrl('https://host/x?u=a@b')).toBe('https://host/x?u=a@b');
    expect(maskUrl('https://host/x#a@b')).toBe('https://host/x#a@b');
    expect(maskUrl('http://u@h/ and http://v@k/')).toBe('http://****@h/ and http://****@k/');
    expect(maskUrl('http://h/ x@y')).toBe('http://h/ x@y');
    expect(maskUrl(new URL('http://u:p@h:1/p'))).toBe('http://****@h:1/p');
    expect(maskUrl('user:pass@host/x')).toBe('****@host/x');
    expect(maskUrl('host/path@x')).toBe('host/path@x');
    expect(maskUrl('host?q=a@b')).toBe('host?q=a@b');
    expect(maskUrl('host#a@b')).toBe('host#a@b');
    expect(maskUrl('a b@c')).toBe('a b@c');
    expect(maskUrl('x a@b')).toBe('x a@b');
    expect(maskUrl('plain')).toBe('plain');
  });

  it('maskedView: masked key, stars for secrets present, ISO expiration, account id', () => {
    const expiration = new Date('2030-01-02T03:04:05.000Z');
    expect(maskedView({ accessKeyId: 'AKIDEXAMPLE1', secretAccessKey: SECRET, sessionToken: TOKEN, expiration, accountId: '123456789012' })).toEqual({
      accessKeyId: '****PLE1',
      secretAccessKey: '****',
      sessionToken: '****',
      expiration: '2030-01-02T03:04:05.000Z',
      accountId: '123456789012',
    });
    expect(maskedView({ accessKeyId: 'AKIDEXAMPLE1', secretAccessKey: SECRET })).toEqual({
      accessKeyId: '****PLE1',
      secretAccessKey: '****',
      sessionToken: undefined,
      expiration: undefined,
      accountId: undefined,
    });
  });

  it('makeCredentials copies only the fields given, and every printing path is masked', () => {
    const expiration = new Date('2030-01-02T03:04:05.000Z');
    const full = makeCredentials({ accessKeyId: 'AKIDEXAMPLE1', secretAccessKey: SECRET, sessionToken: TOKEN, expiration, accountId: '1' });
    expect(Object.keys(full)).toEqual(['accessKeyId', 'secretAccessKey', 'sessionToken', 'expiration', 'accountId']);
    expect(full.secretAccessKey).toBe(SECRET);
    expect(full.sessionToken).toBe(TOKEN);
    expect(full.expiration).toBe(expiration);
    const bare = makeCredentials({ accessKeyId: 'AKIDEXAMPLE1', secretAccessKey: SECRET, sessionToken: undefined });
    expect(Object.keys(bare)).toEqual(['accessKeyId', 'secretAccessKey']);
    const view = maskedView(full);
    expect(JSON.parse(JSON.stringify(full))).toEqual(view);
    expect(String(full)).toBe(`Credentials ${JSON.stringify(view)}`);
    expect(`${full}`).toBe(`Credentials ${JSON.stringify(view)}`);
    // Called directly too (String() and templates go through Symbol.toPrimitive).
    expect(full.toString()).toBe(`Credentials ${JSON.stringify(view)}`);
    expect(inspect(full)).toBe(inspect(view));
    for (const printed of [JSON.stringify(full), String(full), `${full}`, inspect(full), inspect({ c: full })]) {
      expect(printed).not.toContain(SECRET);
      expect(printed).not.toContain(TOKEN);
    }
    // Non-enumerable: spreading gives plain fields only.
    expect(Object.getOwnPropertySymbols({ ...full })).toEqual([]);
    expect(Object.keys({ ...full })).toEqual(Object.keys(full));
    for (const key of ['toJSON', 'toString'] as const) expect(Object.getOwnPropertyDescriptor(full, key)?.enumerable).toBe(false);
    for (const symbol of Object.getOwnPropertySymbols(full)) expect(Object.getOwnPropertyDescriptor(full, symbol)?.enumerable).toBe(false);
  });

  it('isExpired: at or before now, never without an expiration', () => {
    const c = { accessKeyId: 'a', secretAccessKey: 'b', expiration: new Date(1000) };
    expect(isExpired(c, 999)).toBe(false);
    expect(isExpired(c, 1000)).toBe(true);
    expect(isExpired(c, 1001)).toBe(true);
    expect(isExpired({ accessKeyId: 'a', secretAccessKey: 'b' }, Number.MAX_SAFE_INTEGER)).toBe(false);
  });
});
