import { describe, expect, it, vi } from 'vitest';
import { fromAssumeRole } from '../../../src/providers/sts/assume-role.js';
import { providerNameOf } from '../../../src/provider.js';
import { StsClient } from '../../../src/sts/index.js';
import { MINUTE, ROLE, setup, USER } from './helpers.js';

describe('fromAssumeRole', () => {
  it('assumes a role signed with the source, returns expiring credentials and serves them from its cache', async () => {
    const t = await setup();
    const p = fromAssumeRole({ roleArn: ROLE('deploy'), source: t.user, sts: t.sts, now: t.clock.now });
    expect(providerNameOf(p)).toBe('assume-role');
    const c = await p();
    expect(c.sessionToken).toBe(t.server.issued[0]?.sessionToken);
    expect(c.expiration?.getTime()).toBe(t.clock.now() + 3600_000);
    expect(JSON.stringify(c)).not.toContain(c.secretAccessKey);
    const [req] = t.server.requests;
    expect(req).toMatchObject({ action: 'AssumeRole', accessKeyId: USER.accessKeyId, signatureValid: true });
    // Default session name: credchain-<epoch ms>, valid for the STS pattern.
    expect(req?.params.RoleSessionName).toBe(`credchain-${t.clock.now()}`);
    expect(req?.params.RoleSessionName).toMatch(/^[\w+=,.@-]{2,64}$/);
    expect(await p()).toBe(c);
    expect(t.server.counts.AssumeRole).toBe(1);
  });

  it('passes every parameter through to STS', async () => {
    const t = await setup({ roles: { [ROLE('deploy')]: { externalId: 'ext-123', maxSessionDurationSeconds: 7200 } }, mfaTokenCodes: { 'arn:aws:iam::123456789012:mfa/alice': '654321' } });
    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] });
    const p = fromAssumeRole({
      roleArn: ROLE('deploy'),
      source: t.user,
      roleSessionName: 'ci-run-7',
      externalId: 'ext-123',
      durationSeconds: 7200,
      policy,
      policyArns: [{ arn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }, { arn: 'arn:aws:iam::123456789012:policy/extra' }],
      tags: [{ key: 'team', value: 'infra' }, { key: 'env', value: 'prod' }],
      transitiveTagKeys: ['team'],
      sourceIdentity: 'alice',
      mfaSerial: 'arn:aws:iam::123456789012:mfa/alice',
      tokenCode: async () => '654321',
      sts: t.sts,
      now: t.clock.now,
    });
    const c = await p();
    expect(c.expiration?.getTime()).toBe(t.clock.now() + 7200_000);
    expect(t.server.requests[0]?.params).toMatchObject({
      Action: 'AssumeRole',
      RoleArn: ROLE('deploy'),
      RoleSessionName: 'ci-run-7',
      ExternalId: 'ext-123',
      DurationSeconds: '7200',
      Policy: policy,
      'PolicyArns.member.1.arn': 'arn:aws:iam::aws:policy/ReadOnlyAccess',
      'PolicyArns.member.2.arn': 'arn:aws:iam::123456789012:policy/extra',
      'Tags.member.1.Key': 'team',
      'Tags.member.1.Value': 'infra',
      'Tags.member.2.Key': 'env',
      'Tags.member.2.Value': 'prod',
      'TransitiveTagKeys.member.1': 'team',
      SourceIdentity: 'alice',
      SerialNumber: 'arn:aws:iam::123456789012:mfa/alice',
      TokenCode: '654321',
    });
    expect(t.server.requests[0]?.status).toBe(200);
  });

  it('rejects mfaSerial without tokenCode when created, before any request', async () => {
    const t = await setup();
    expect(() => fromAssumeRole({ roleArn: ROLE('deploy'), source: t.user, mfaSerial: 'arn:aws:iam::123456789012:mfa/alice', sts: t.sts })).toThrow(
      /mfaSerial arn:aws:iam::123456789012:mfa\/alice is set but tokenCode is not/,
    );
    expect(() => fromAssumeRole({ roleArn: '', source: t.user })).toThrow(/roleArn is missing/);
    expect(() => fromAssumeRole({ roleArn: ROLE('x'), source: 'nope' as never })).toThrow(/source must be a credential provider/);
    expect(t.server.counts.total).toBe(0);
  });

  it('asks tokenCode exactly once per renewal that calls STS', async () => {
    const serial = 'arn:aws:iam::123456789012:mfa/alice';
    const t = await setup();
    let n = 0;
    const tokenCode = vi.fn(async () => String(100000 + ++n));
    const p = fromAssumeRole({ roleArn: ROLE('deploy'), source: t.user, mfaSerial: serial, tokenCode, sts: t.sts, now: t.clock.now, refresh: t.refresh });
    await Promise.all([p(), p(), p()]);
    await p();
    expect(tokenCode).toHaveBeenCalledTimes(1);
    t.clock.advance(55 * MINUTE); // mandatory window of a 1-hour session
    await Promise.all([p(), p()]);
    expect(tokenCode).toHaveBeenCalledTimes(2);
    expect(t.server.requests.map((r) => r.params.TokenCode)).toEqual(['100001', '100002']);
    // A wrong code is STS's AccessDenied, named with the role.
    const t2 = await setup({ mfaTokenCodes: { [serial]: '999999' } });
    const bad = fromAssumeRole({ roleArn: ROLE('deploy'), source: t2.user, mfaSerial: serial, tokenCode: () => '111111', sts: t2.sts, now: t2.clock.now });
    await expect(bad()).rejects.toMatchObject({ code: 'AccessDenied', roleArn: ROLE('deploy') });
  });

  it('wraps a failing tokenCode callback with the device named', async () => {
    const t = await setup();
    const p = fromAssumeRole({
      roleArn: ROLE('deploy'),
      source: t.user,
      mfaSerial: 'GAHT12345678',
      tokenCode: async () => {
        throw new Error('prompt closed');
      },
      sts: t.sts,
    });
    await expect(p()).rejects.toThrow('assume-role: tokenCode() for MFA device GAHT12345678 failed: prompt closed');
    expect(t.server.counts.total).toBe(0);
  });

  it('renews ahead of expiry on the fake clock, and only then', async () => {
    const t = await setup();
    const p = fromAssumeRole({ roleArn: ROLE('deploy'), source: t.user, sts: t.sts, now: t.clock.now, refresh: t.refresh });
    const first = await p();
    t.clock.advance(44 * MINUTE); // before the 15-minute advisory window
    expect(await p()).toBe(first);
    expect(t.server.counts.AssumeRole).toBe(1);
    t.clock.advance(2 * MINUTE); // advisory: served at once, renewed in the background
    expect(await p()).toBe(first);
    await vi.waitFor(() => expect(p.status().state).toBe('fresh'));
    const second = await p();
    expect(second.accessKeyId).not.toBe(first.accessKeyId);
    expect(second.expiration?.getTime()).toBe(t.clock.now() + 3600_000);
    expect(t.server.counts.AssumeRole).toBe(2);
  });

  it('returns the bare provider with refresh: false (every call goes to the session cache, then STS)', async () => {
    const t = await setup();
    const p = fromAssumeRole({ roleArn: ROLE('deploy'), source: t.user, roleSessionName: 'bare', sts: t.sts, now: t.clock.now, refresh: false, sessionCache: false });
    expect('status' in p).toBe(false);
    expect(providerNameOf(p)).toBe('assume-role');
    await p();
    await p();
    expect(t.server.counts.AssumeRole).toBe(2);
  });

  it('accepts an StsClient and signs with the source, not with the client\'s own credentials', async () => {
    const t = await setup();
    const other = { accessKeyId: 'AKIAOTHEROTHEROTHER1', secretAccessKey: 'other-secret' };
    t.server.addUser(other.accessKeyId, other.secretAccessKey);
    const sts = new StsClient({ ...t.sts, credentials: other });
    const p = fromAssumeRole({ roleArn: ROLE('deploy'), source: t.user, sts, now: t.clock.now });
    await p();
    expect(t.server.requests[0]).toMatchObject({ accessKeyId: USER.accessKeyId, signatureValid: true, status: 200 });
  });

  it('chains three hops: three calls at first, then only the hops that expire renew', async () => {
    const one = ROLE('one');
    const two = ROLE('two');
    const three = ROLE('three');
    const t = await setup({ roles: { [one]: { maxSessionDurationSeconds: 43200 }, [two]: {}, [three]: {} } });
    const common = { sts: t.sts, now: t.clock.now, refresh: t.refresh };
    const hop1 = fromAssumeRole({ ...common, roleArn: one, source: t.user, durationSeconds: 3 * 3600 });
    const hop2 = fromAssumeRole({ ...common, roleArn: two, source: hop1, durationSeconds: 3600 });
    const hop3 = fromAssumeRole({ ...common, roleArn: three, source: hop2, durationSeconds: 900 });

    const c = await Promise.all(Array.from({ length: 20 }, () => hop3()));
    expect(new Set(c).size).toBe(1);
    const signers = () => t.server.requests.map((r) => [r.params.RoleArn, r.accessKeyId]);
    const [k1, k2, k3] = t.server.issued.map((i) => i.accessKeyId);
    expect(signers()).toEqual([
      [one, USER.accessKeyId],
      [two, k1],
      [three, k2],
    ]);
    expect(c[0]!.accessKeyId).toBe(k3);

    t.clock.advance(14 * MINUTE); // only hop 3 (15 minutes) is near expiry
    await Promise.all([hop3(), hop3(), hop3()]);
    expect(signers().slice(3)).toEqual([[three, k2]]);

    t.clock.advance(41 * MINUTE); // 55 min: hop 3 expired, hop 2 in its mandatory window, hop 1 fresh
    const renewed = await hop3();
    const k2b = t.server.issued[4]!.accessKeyId;
    expect(signers().slice(4)).toEqual([
      [two, k1],
      [three, k2b],
    ]);
    expect(renewed.accessKeyId).toBe(t.server.issued[5]!.accessKeyId);
    expect(t.server.counts.AssumeRole).toBe(6);
  });

  it('100 concurrent callers through two hops: 2 STS calls cold, 2 more near expiry', async () => {
    const t = await setup();
    const common = { sts: t.sts, now: t.clock.now };
    const first = fromAssumeRole({ ...common, roleArn: ROLE('first'), source: t.user });
    const second = fromAssumeRole({ ...common, roleArn: ROLE('second'), source: first });
    const wave = () => Promise.all(Array.from({ length: 100 }, () => second()));
    expect(new Set(await wave()).size).toBe(1);
    expect(t.server.counts.AssumeRole).toBe(2);
    t.clock.advance(55 * MINUTE);
    const renewed = await wave();
    expect(new Set(renewed).size).toBe(1);
    expect(t.server.counts.AssumeRole).toBe(4);
    expect(renewed[0]!.expiration!.getTime()).toBe(t.clock.now() + 3600_000);
  });
});
