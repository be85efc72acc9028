import { describe, expect, it, vi } from 'vitest';
import { fromStatic } from '../../src/providers/static.js';
import { fromAssumeRole } from '../../src/providers/assume-role.js';
import { fromWebIdentity } from '../../src/providers/web-identity.js';
import { configureStsSessionCache, stsSessionCacheInfo } from '../../src/providers/sts-session-cache.js';
import { jwt, MINUTE, ROLE, setup } from './sts-helpers.js';

const token = (sub: string) => jwt({ sub, aud: 'sts.amazonaws.com', iss: 'https://oidc.example.com' });

describe('the shared STS session cache', () => {
  it('two providers, same role + source + session name: one STS call (sequential and concurrent)', async () => {
    const t = await setup();
    const make = () => fromAssumeRole({ roleArn: ROLE('shared'), source: t.user, roleSessionName: 'app', sts: t.sts, now: t.clock.now });
    const a = make();
    const b = make();
    const [ca, cb] = await Promise.all([a(), b()]);
    expect(cb.accessKeyId).toBe(ca.accessKeyId);
    expect((await make()()).accessKeyId).toBe(ca.accessKeyId);
    expect(t.server.counts.AssumeRole).toBe(1);
  });

  it('any parameter that changes the result gets its own session', async () => {
    const t = await setup();
    const other = { accessKeyId: 'AKIAOTHEROTHEROTHER1', secretAccessKey: 'other-secret' };
    t.server.addUser(other.accessKeyId, other.secretAccessKey);
    const base = { roleArn: ROLE('shared'), source: t.user, roleSessionName: 'app', sts: t.sts, now: t.clock.now };
    await fromAssumeRole(base)();
    await fromAssumeRole({ ...base, roleSessionName: 'other' })();
    await fromAssumeRole({ ...base, source: fromStatic(other) })();
    await fromAssumeRole({ ...base, durationSeconds: 900 })();
    await fromAssumeRole({ ...base, tags: [{ key: 'a', value: 'b' }] })();
    await fromAssumeRole({ ...base, sts: { ...t.sts, region: 'eu-west-1' } })();
    expect(t.server.counts.AssumeRole).toBe(6);
    // Generated default names differ per provider (epoch ms), so providers without a name do not share.
    await fromAssumeRole({ ...base, roleSessionName: undefined })();
    t.clock.advance(1);
    await fromAssumeRole({ ...base, roleSessionName: undefined })();
    expect(t.server.counts.AssumeRole).toBe(8);
  });

  it('web identity: the same token shares, a different token does not', async () => {
    const t = await setup();
    const make = (tok: string) => fromWebIdentity({ roleArn: ROLE('web'), webIdentityToken: tok, roleSessionName: 'pod', sts: t.sts, now: t.clock.now });
    await make(token('a'))();
    await make(token('a'))();
    expect(t.server.counts.AssumeRoleWithWebIdentity).toBe(1);
    await make(token('b'))();
    expect(t.server.counts.AssumeRoleWithWebIdentity).toBe(2);
  });

  it('never hands back a session already inside its renewal window (no renewal loop)', async () => {
    const t = await setup();
    const make = () => fromAssumeRole({ roleArn: ROLE('shared'), source: t.user, roleSessionName: 'app', sts: t.sts, now: t.clock.now, refresh: t.refresh });
    const a = make();
    const first = await a();
    // 43 minutes in: a's renewal starts at 45 (15-minute window), but with jitter some holder
    // could start at 42 (18 minutes): the session is no longer handed to new holders.
    t.clock.advance(43 * MINUTE);
    const b = make();
    const fromB = await b();
    expect(fromB.accessKeyId).not.toBe(first.accessKeyId);
    expect(t.server.counts.AssumeRole).toBe(2);
    // a renews in its mandatory window: it gets b's new session (still fresh), not its own old one.
    t.clock.advance(12 * MINUTE);
    const renewed = await a();
    expect(renewed.accessKeyId).toBe(fromB.accessKeyId);
    expect(t.server.counts.AssumeRole).toBe(2);
    // and then a stays quiet: repeated calls are cache hits, no renewal on every call.
    for (let i = 0; i < 5; i++) {
      t.clock.advance(MINUTE);
      expect(await a()).toBe(renewed);
    }
    expect(a.status().state).toBe('fresh');
    expect(t.server.counts.AssumeRole).toBe(2);
  });

  it('a renewal never gets back the session it is renewing, even without a second provider', async () => {
    const t = await setup();
    const a = fromAssumeRole({ roleArn: ROLE('solo'), source: t.user, roleSessionName: 'app', sts: t.sts, now: t.clock.now, refresh: t.refresh });
    const first = await a();
    t.clock.advance(46 * MINUTE); // advisory window: background renewal
    expect(await a()).toBe(first);
    await vi.waitFor(() => expect(a.status()).toMatchObject({ state: 'fresh', renewing: false }));
    const second = await a();
    expect(t.server.counts.AssumeRole).toBe(2);
    expect(second.accessKeyId).not.toBe(first.accessKeyId);
    expect(a.status()).toMatchObject({ state: 'fresh' });
  });

  it("a provider's invalidate() drops its entry", async () => {
    const t = await setup();
    const make = () => fromAssumeRole({ roleArn: ROLE('shared'), source: t.user, roleSessionName: 'app', sts: t.sts, now: t.clock.now });
    const a = make();
    const b = make();
    await a();
    await b();
    expect(t.server.counts.AssumeRole).toBe(1);
    a.invalidate();
    await b(); // b's own refreshing cache still holds the session
    expect(t.server.counts.AssumeRole).toBe(1);
    await make()(); // a new holder finds no shared entry
    expect(t.server.counts.AssumeRole).toBe(2);
  });

  it('entries leave when their credentials expire; size is bounded; the cache can be turned off', async () => {
    const t = await setup();
    const make = (role: string, extra: object = {}) => fromAssumeRole({ roleArn: ROLE(role), source: t.user, roleSessionName: 'app', durationSeconds: 900, sts: t.sts, now: t.clock.now, ...extra });
    await make('one')();
    expect(stsSessionCacheInfo().size).toBe(1);
    t.clock.advance(15 * MINUTE);
    expect(stsSessionCacheInfo().size).toBe(0);

    configureStsSessionCache({ maxEntries: 1, now: t.clock.now });
    await make('one')();
    await make('two')();
    expect(stsSessionCacheInfo()).toMatchObject({ size: 1, maxEntries: 1 });
    await make('one')(); // evicted by 'two'
    expect(t.server.counts.AssumeRole).toBe(4);

    configureStsSessionCache({ enabled: false });
    await make('three')();
    await make('three')();
    expect(stsSessionCacheInfo()).toMatchObject({ enabled: false, size: 0 });
    configureStsSessionCache({ enabled: true, maxEntries: 100 });
    await make('four', { sessionCache: false })();
    await make('four', { sessionCache: false })();
    expect(t.server.counts.AssumeRole).toBe(8);
    expect(() => configureStsSessionCache({ maxEntries: 0 })).toThrow(/maxEntries must be an integer >= 1/);
  });
});
