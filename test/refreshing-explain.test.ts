import { describe, expect, it } from 'vitest';
import { chain, CredentialsNotFound, explain, refreshing, type Credentials } from '../src/index.js';
import { createFakeClock, mockProvider } from '../src/testing/index.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1);
const flush = () => new Promise((r) => setImmediate(r));

function creds(expiresAt: number): Credentials {
  return { accessKeyId: 'AKIDEXPLAINCACHE', secretAccessKey: 'secret-never-printed', sessionToken: 'token-never-printed', expiration: new Date(expiresAt) };
}

describe('explain() of a refreshing cache whose background renewal failed', () => {
  it('describes the cached credentials the caller got and the failed renewal, not "No credentials resolved"', async () => {
    const clock = createFakeClock(T0);
    const env = mockProvider(new CredentialsNotFound('AWS_ACCESS_KEY_ID is not set', { providerName: 'env' }), { name: 'env' });
    const web = mockProvider([creds(T0 + 60 * MIN), new Error('web-identity: STS answered 500 InternalFailure')], { name: 'web-identity', now: clock.now });
    const p = refreshing(chain(env, web), { now: clock.now, random: () => 0 });
    await p();
    clock.set(T0 + 46 * MIN); // advisory window: cached value, background renewal (fails)
    await p();
    await flush();
    expect(p.status().lastError).toMatch(/500/);

    const e = await explain(p);
    const text = e.toString();
    expect(text).not.toContain('No credentials resolved');
    expect(e.winner).toBe('web-identity');
    expect(e.accessKeyId).toBe('****ACHE');
    expect(e.renewalError).toMatch(/STS answered 500/);
    expect(text).toMatch(/^Credentials from web-identity \(access key \*\*\*\*ACHE, expires 2026-01-01T01:00:00.000Z\), cached by chain\(env, web-identity\)/);
    expect(text).toContain('skipped  env: AWS_ACCESS_KEY_ID is not set');
    expect(text).toContain('resolved web-identity');
    expect(text).toMatch(/The last renewal failed; these cached credentials are served until they expire: .*STS answered 500/);
    expect(text).not.toContain('secret-never-printed');
    expect(text).not.toContain('token-never-printed');
  });

  it('after a successful renewal explains as before (no renewal line)', async () => {
    const clock = createFakeClock(T0);
    const web = mockProvider(() => creds(clock.now() + 60 * MIN), { name: 'web-identity', now: clock.now });
    const p = refreshing(chain(web), { now: clock.now, random: () => 0 });
    const e = await explain(p);
    expect(e.winner).toBe('web-identity');
    expect(e.renewalError).toBeUndefined();
    expect(e.toString()).not.toContain('last renewal failed');
  });
});
