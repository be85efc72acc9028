import { describe, expect, it, vi } from 'vitest';
import { fromStatic } from '../../../src/providers/static.js';
import { fromAssumeRole } from '../../../src/providers/sts/assume-role.js';
import { fromWebIdentity } from '../../../src/providers/sts/web-identity.js';
import { fromSessionToken } from '../../../src/providers/sts/session-token.js';
import { fromFederationToken } from '../../../src/providers/sts/federation-token.js';
import { callerDigestOf, configureStsSessionCache, digestOf, sessionKeyOf, stsSessionCacheInfo } from '../../../src/providers/sts/session-cache.js';
import { jwt, MINUTE, ROLE, setup, USER } from './helpers.js';

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

  describe('a session never crosses identities', () => {
    const wrongSecret = () => fromStatic({ accessKeyId: USER.accessKeyId, secretAccessKey: 'not-the-secret-of-this-key' });

    it('the right access key id with a wrong secret gets no cached session: STS is asked and refuses (assume-role, federation-token, session-token)', async () => {
      const t = await setup();
      const base = { sts: t.sts, now: t.clock.now };
      const cases = [
        { op: 'AssumeRole', make: (source: ReturnType<typeof fromStatic>) => fromAssumeRole({ ...base, roleArn: ROLE('shared'), source, roleSessionName: 'app' }) },
        { op: 'GetFederationToken', make: (source: ReturnType<typeof fromStatic>) => fromFederationToken({ ...base, source, name: 'bob' }) },
        { op: 'GetSessionToken', make: (source: ReturnType<typeof fromStatic>) => fromSessionToken({ ...base, source }) },
      ];
      for (const { op, make } of cases) {
        const good = await make(t.user)();
        expect(t.server.counts[op]).toBe(1);
        // Same key id, wrong secret: a new STS call, which the server refuses; never the cached session.
        const error = await make(wrongSecret())().then(
          () => undefined,
          (e: unknown) => e as Error,
        );
        expect(error, op).toBeInstanceOf(Error);
        expect(error!.message).toMatch(/SignatureDoesNotMatch/);
        expect(error!.message).not.toContain(good.secretAccessKey);
        expect(t.server.counts[op]).toBe(2);
        // The right caller still shares.
        expect((await make(t.user)()).accessKeyId).toBe(good.accessKeyId);
        expect(t.server.counts[op]).toBe(2);
      }
    });

    it('the session token is part of the identity: two sessions of the same key id do not share', async () => {
      const t = await setup();
      const role = (name: string) => fromAssumeRole({ roleArn: ROLE(name), source: t.user, roleSessionName: 'hop', sts: t.sts, now: t.clock.now });
      const hopA = await role('a')();
      const hopB = await role('b')();
      // Two callers whose key ids match but whose session tokens differ (the server signs with the key id's secret only).
      const callerA = fromStatic({ accessKeyId: hopA.accessKeyId, secretAccessKey: hopA.secretAccessKey, sessionToken: hopA.sessionToken });
      const sameIdOtherToken = fromStatic({ accessKeyId: hopA.accessKeyId, secretAccessKey: hopA.secretAccessKey, sessionToken: hopB.sessionToken });
      const next = (source: ReturnType<typeof fromStatic>) => fromAssumeRole({ roleArn: ROLE('next'), source, roleSessionName: 'app', sts: t.sts, now: t.clock.now });
      await next(callerA)();
      expect(t.server.counts.AssumeRole).toBe(3);
      await next(sameIdOtherToken)().catch(() => undefined);
      expect(t.server.counts.AssumeRole).toBe(4);
      expect(await callerDigestOf({ accessKeyId: 'AKID', secretAccessKey: 's', sessionToken: 'a' })).not.toBe(
        await callerDigestOf({ accessKeyId: 'AKID', secretAccessKey: 's', sessionToken: 'b' }),
      );
      expect(await callerDigestOf({ accessKeyId: 'AKID', secretAccessKey: 's' })).not.toBe(await callerDigestOf({ accessKeyId: 'AKID', secretAccessKey: 't' }));
    });

    it('keys hold no secret: keyed digests, not plain SHA-256 of the secret', async () => {
      const { createHash } = await import('node:crypto');
      const secret = USER.secretAccessKey;
      const digest = await digestOf(secret);
      expect(digest).toMatch(/^[0-9a-f]{64}$/);
      expect(digest).toBe(await digestOf(secret));
      expect(digest).not.toBe(createHash('sha256').update(secret).digest('hex'));
      const key = await sessionKeyOf([USER.accessKeyId, secret]);
      expect(key).not.toContain(secret);
      expect(key).not.toContain(USER.accessKeyId);
    });

    it('an MFA session is never handed to another provider that has not asked for its own code (session-token, assume-role)', async () => {
      const serial = 'arn:aws:iam::123456789012:mfa/alice';
      const t = await setup({ mfaTokenCodes: { [serial]: '123456' } });
      const base = { source: t.user, mfaSerial: serial, sts: t.sts, now: t.clock.now };
      const makers = [
        { op: 'GetSessionToken', make: (tokenCode: () => Promise<string>) => fromSessionToken({ ...base, tokenCode }) },
        { op: 'AssumeRole', make: (tokenCode: () => Promise<string>) => fromAssumeRole({ ...base, roleArn: ROLE('mfa'), roleSessionName: 'app', tokenCode }) },
      ];
      for (const { op, make } of makers) {
        const codeA = vi.fn(async () => '123456');
        const a = await make(codeA)();
        expect(codeA).toHaveBeenCalledTimes(1);
        // Another provider, same source and device: it asks its own code (a wrong one here), and STS refuses it.
        const codeB = vi.fn(async () => '000000');
        await expect(make(codeB)(), op).rejects.toThrow(/MultiFactorAuthentication failed/);
        expect(codeB).toHaveBeenCalledTimes(1);
        // With a right code it gets a session of its own, not a's.
        const codeC = vi.fn(async () => '123456');
        const c = await make(codeC)();
        expect(codeC).toHaveBeenCalledTimes(1);
        expect(c.accessKeyId).not.toBe(a.accessKeyId);
        expect(t.server.counts[op]).toBe(3);
      }
    });

    it('within the provider that asked for the code, the MFA session is shared (bare provider: one code, one call)', async () => {
      const serial = 'arn:aws:iam::123456789012:mfa/alice';
      const t = await setup({ mfaTokenCodes: { [serial]: '123456' } });
      const tokenCode = vi.fn(async () => '123456');
      const p = fromSessionToken({ source: t.user, mfaSerial: serial, tokenCode, sts: t.sts, now: t.clock.now, refresh: false });
      const [x, y] = await Promise.all([p(), p()]);
      const z = await p();
      expect(y.accessKeyId).toBe(x.accessKeyId);
      expect(z.accessKeyId).toBe(x.accessKeyId);
      expect(tokenCode).toHaveBeenCalledTimes(1);
      expect(t.server.counts.GetSessionToken).toBe(1);
    });
  });
});
