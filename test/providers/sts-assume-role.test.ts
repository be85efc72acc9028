import { describe, expect, it } from 'vitest';
import { fromAssumeRole } from '../../src/providers/assume-role.js';
import { ROLE, setup, USER } from './sts-helpers.js';

describe('fromAssumeRole', () => {
  it('assumes a role signed with the source and returns expiring credentials', async () => {
    const t = await setup();
    const p = fromAssumeRole({ roleArn: ROLE('deploy'), source: t.user, sts: t.sts, now: t.clock.now });
    const c = await p();
    expect(c.sessionToken).toBeDefined();
    expect(c.expiration?.getTime()).toBe(t.clock.now() + 3600_000);
    const [req] = t.server.requests;
    expect(req?.action).toBe('AssumeRole');
    expect(req?.accessKeyId).toBe(USER.accessKeyId);
    expect(req?.signatureValid).toBe(true);
    expect(req?.params.RoleSessionName).toBe(`credchain-${t.clock.now()}`);
    expect(await p()).toBe(c);
    expect(t.server.counts.AssumeRole).toBe(1);
  });
});
