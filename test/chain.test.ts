import { describe, expect, it } from 'vitest';
import { chain, explain, refreshing, CredentialsError, CredentialsNotFound, NoCredentialsError, named, fromStatic } from '../src/index.js';
import { mockProvider } from '../src/testing/index.js';

const good = { accessKeyId: 'AKIDEXAMPLEGOOD', secretAccessKey: 'topsecret-value' };
const notHere = (name: string, why: string) => mockProvider(new CredentialsNotFound(why, { providerName: name }), { name });

describe('chain', () => {
  it('returns the first success and does not ask later providers', async () => {
    const a = notHere('a', 'nothing in a');
    const b = mockProvider(good, { name: 'b' });
    const c = mockProvider(good, { name: 'c' });
    expect((await chain(a, b, c)()).accessKeyId).toBe('AKIDEXAMPLEGOOD');
    expect([a.calls, b.calls, c.calls]).toEqual([1, 1, 0]);
  });

  it('stops at a real failure and throws it as is', async () => {
    const broken = new CredentialsError('profile "dev" in /x/config: role_arn without source_profile', { providerName: 'ini' });
    const later = mockProvider(good, { name: 'later' });
    await expect(chain(notHere('env', 'unset'), mockProvider(broken, { name: 'ini' }), later)()).rejects.toBe(broken);
    expect(later.calls).toBe(0);
  });

  it('treats errors that are not ours as real failures', async () => {
    const boom = new TypeError('bug');
    await expect(chain(mockProvider(boom), mockProvider(good))()).rejects.toBe(boom);
  });

  it('lists every provider with its reason when none applies', async () => {
    const error = await chain(notHere('env', 'AWS_ACCESS_KEY_ID is not set'), notHere('ini', 'no profile default'))().catch((e) => e);
    expect(error).toBeInstanceOf(NoCredentialsError);
    expect(error).toBeInstanceOf(CredentialsNotFound);
    expect(error.message.split('\n')).toEqual([
      'Could not find AWS credentials. Attempted:',
      '  - env: AWS_ACCESS_KEY_ID is not set',
      '  - ini: no profile default',
    ]);
    expect(error.attempts).toHaveLength(2);
  });

  it('is itself not-found, so chains nest', async () => {
    const inner = chain(notHere('x', 'no x'));
    expect((await chain(inner, named('fallback', mockProvider(good)))()).accessKeyId).toBe(good.accessKeyId);
  });

  it('invalidate() reaches every provider', () => {
    const a = mockProvider(good);
    const b = mockProvider(good);
    chain(a, b).invalidate();
    expect([a.invalidations, b.invalidations]).toEqual([1, 1]);
  });

  it('rejects an empty chain', () => {
    expect(() => chain()).toThrow(/at least one provider/);
  });
});

describe('explain', () => {
  it('names the winner, why earlier links were skipped, and masks the key', async () => {
    const p = refreshing(chain(notHere('env', 'AWS_ACCESS_KEY_ID is not set'), named('static', fromStatic({ ...good, expiration: new Date('2030-01-01T00:00:00Z') }))));
    const e = await explain(p);
    expect(e.winner).toBe('static');
    expect(e.tried).toEqual([
      { provider: 'env', outcome: 'skipped', reason: 'AWS_ACCESS_KEY_ID is not set' },
      { provider: 'static', outcome: 'resolved' },
    ]);
    expect(e.accessKeyId).toBe('****GOOD');
    expect(e.expiration?.toISOString()).toBe('2030-01-01T00:00:00.000Z');
    const text = String(e);
    expect(text).toContain('Credentials from static');
    expect(text).toContain('skipped  env: AWS_ACCESS_KEY_ID is not set');
    expect(text).not.toContain('topsecret');
    expect(JSON.stringify(e)).not.toContain('topsecret');
  });

  it('reports a failure without throwing', async () => {
    const e = await explain(chain(notHere('env', 'unset'), mockProvider(new CredentialsError('bad profile'), { name: 'ini' })));
    expect(e.winner).toBeUndefined();
    expect(e.tried.map((t) => t.outcome)).toEqual(['skipped', 'failed']);
    expect(String(e)).toContain('FAILED   ini: bad profile');
  });

  it('explains a bare provider as a one-link chain', async () => {
    const e = await explain(named('static', fromStatic(good)));
    expect(e).toMatchObject({ winner: 'static', tried: [{ provider: 'static', outcome: 'resolved' }] });
  });
});
