import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { fromEnv, fromStatic, CredentialsError, CredentialsNotFound } from '../../src/index.js';

describe('fromStatic', () => {
  it('returns the given credentials', async () => {
    const expiration = new Date('2030-01-01T00:00:00Z');
    const c = await fromStatic({ accessKeyId: 'AKID', secretAccessKey: 'S', sessionToken: 'T', expiration, accountId: '123456789012' })();
    expect(c).toMatchObject({ accessKeyId: 'AKID', secretAccessKey: 'S', sessionToken: 'T', expiration, accountId: '123456789012' });
  });

  it.each([
    [{ accessKeyId: '', secretAccessKey: 'S' }, /accessKeyId is missing or empty/],
    [{ secretAccessKey: 'S' }, /accessKeyId is missing or empty/],
    [{ accessKeyId: 'A', secretAccessKey: '  ' }, /secretAccessKey is missing or empty/],
    [{ accessKeyId: 'A', secretAccessKey: 'S', sessionToken: '' }, /sessionToken/],
    [{ accessKeyId: 'A', secretAccessKey: 'S', expiration: new Date('nope') }, /expiration/],
  ])('rejects %o', (input, message) => {
    expect(() => fromStatic(input as never)).toThrow(CredentialsError);
    expect(() => fromStatic(input as never)).toThrow(message);
  });
});

describe('fromEnv', () => {
  const base = { AWS_ACCESS_KEY_ID: 'AKIDENV', AWS_SECRET_ACCESS_KEY: 'envsecret' };

  it('reads every variable', async () => {
    const c = await fromEnv({
      env: { ...base, AWS_SESSION_TOKEN: 'tok', AWS_CREDENTIAL_EXPIRATION: '2030-01-01T00:00:00Z', AWS_ACCOUNT_ID: '123456789012' },
    })();
    expect(c).toMatchObject({ ...{ accessKeyId: 'AKIDENV', secretAccessKey: 'envsecret' }, sessionToken: 'tok', accountId: '123456789012' });
    expect(c.expiration?.toISOString()).toBe('2030-01-01T00:00:00.000Z');
  });

  it('reads process.env at call time, not at creation', async () => {
    const p = fromEnv();
    const saved = { ...process.env };
    try {
      delete process.env.AWS_ACCESS_KEY_ID;
      delete process.env.AWS_SECRET_ACCESS_KEY;
      await expect(p()).rejects.toBeInstanceOf(CredentialsNotFound);
      Object.assign(process.env, base);
      expect((await p()).accessKeyId).toBe('AKIDENV');
    } finally {
      process.env = saved;
    }
  });

  it('is not-found when neither key is set, blank counting as unset', async () => {
    await expect(fromEnv({ env: {} })()).rejects.toBeInstanceOf(CredentialsNotFound);
    await expect(fromEnv({ env: { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: ' ' } })()).rejects.toBeInstanceOf(CredentialsNotFound);
  });

  it('names the missing half of the pair', async () => {
    const e1 = await fromEnv({ env: { AWS_ACCESS_KEY_ID: 'A' } })().catch((e) => e);
    expect(e1).toBeInstanceOf(CredentialsError);
    expect(e1).not.toBeInstanceOf(CredentialsNotFound);
    expect(e1.message).toMatch(/AWS_SECRET_ACCESS_KEY is not/);
    expect(e1.providerName).toBe('env');
    // A secret long and distinctive enough that any echo of it (message, cause, inspect, JSON) shows.
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYLEAKCANARY';
    const e2 = await fromEnv({ env: { AWS_SECRET_ACCESS_KEY: secret } })().catch((e) => e);
    expect(e2.message).toMatch(/AWS_ACCESS_KEY_ID is not/);
    for (const text of [e2.message, String(e2), inspect(e2, { depth: 10 }), JSON.stringify(e2)]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(secret.slice(0, 8));
    }
  });

  it('rejects an unparsable expiration naming the variable', async () => {
    for (const bad of ['tomorrow', '2030-13-45T00:00:00Z', '1700000000']) {
      const e = await fromEnv({ env: { ...base, AWS_CREDENTIAL_EXPIRATION: bad } })().catch((x) => x);
      expect(e).toBeInstanceOf(CredentialsError);
      expect(e.message).toContain('AWS_CREDENTIAL_EXPIRATION');
    }
  });
});
