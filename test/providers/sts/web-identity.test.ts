import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { CredentialsNotFound } from '../../../src/errors.js';
import { providerNameOf } from '../../../src/provider.js';
import { fromTokenFile, WebIdentityTokenFileError } from '../../../src/providers/sts/token-file.js';
import { fromWebIdentity } from '../../../src/providers/sts/web-identity.js';
import { jwt, MINUTE, ROLE, setup } from './helpers.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'credchain-sts-'));
  dirs.push(d);
  return d;
}
const token = (sub: string) => jwt({ sub, aud: 'sts.amazonaws.com', iss: 'https://oidc.example.com/id/ABC' });

describe('fromWebIdentity', () => {
  it('calls AssumeRoleWithWebIdentity unsigned with every parameter', async () => {
    const t = await setup();
    const policy = '{"Version":"2012-10-17","Statement":[]}';
    const p = fromWebIdentity({
      roleArn: ROLE('web'),
      webIdentityToken: token('alice'),
      roleSessionName: 'pod-1',
      providerId: 'www.amazon.com',
      policy,
      policyArns: [{ arn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }],
      durationSeconds: 1800,
      sts: t.sts,
      now: t.clock.now,
    });
    expect(providerNameOf(p)).toBe('web-identity');
    const c = await p();
    expect(c.expiration?.getTime()).toBe(t.clock.now() + 1800_000);
    const [req] = t.server.requests;
    expect(req?.signed).toBe(false);
    expect(req?.params).toMatchObject({
      Action: 'AssumeRoleWithWebIdentity',
      RoleArn: ROLE('web'),
      RoleSessionName: 'pod-1',
      WebIdentityToken: token('alice'),
      ProviderId: 'www.amazon.com',
      Policy: policy,
      'PolicyArns.member.1.arn': 'arn:aws:iam::aws:policy/ReadOnlyAccess',
      DurationSeconds: '1800',
    });
  });

  it('calls getToken for each renewal and sends what it returned', async () => {
    const t = await setup();
    const tokens = [token('first'), token('second')];
    let i = 0;
    const p = fromWebIdentity({ roleArn: ROLE('web'), getToken: async () => tokens[i++]!, sts: t.sts, now: t.clock.now, refresh: t.refresh });
    await p();
    await p();
    t.clock.advance(55 * MINUTE);
    await p();
    expect(i).toBe(2);
    expect(t.server.requests.map((r) => r.params.WebIdentityToken)).toEqual(tokens);
  });

  it('needs exactly one of webIdentityToken and getToken', () => {
    expect(() => fromWebIdentity({ roleArn: ROLE('web') })).toThrow(/exactly one of webIdentityToken/);
    expect(() => fromWebIdentity({ roleArn: ROLE('web'), webIdentityToken: 'a', getToken: () => 'b' })).toThrow(/exactly one/);
    expect(() => fromWebIdentity({ roleArn: '', webIdentityToken: 'a' })).toThrow(/roleArn is missing/);
  });

  it('InvalidIdentityToken and IDPRejectedClaim are real failures naming role and code, never the token', async () => {
    const t = await setup({ verifyWebIdentityToken: (tok) => (tok.startsWith('reject') ? { error: 'IDPRejectedClaim', message: 'Incorrect token audience' } : { error: 'InvalidIdentityToken', message: 'No OpenIDConnect provider found in your account' }) });
    for (const [tok, code] of [
      ['reject-SECRETTOKEN-1', 'IDPRejectedClaim'],
      ['bad-SECRETTOKEN-2', 'InvalidIdentityToken'],
    ] as const) {
      const p = fromWebIdentity({ roleArn: ROLE('web'), webIdentityToken: tok, sts: t.sts, now: t.clock.now });
      const error = await p().then(
        () => undefined,
        (e: unknown) => e as Error & { code: string },
      );
      expect(error).toBeDefined();
      expect(error!.message).toContain(ROLE('web'));
      expect(error!.message).toContain(code);
      expect(error!.code).toBe(code);
      for (const text of [error!.message, JSON.stringify(error), inspect(error), String(error!.stack)]) expect(text).not.toContain('SECRETTOKEN');
    }
  });
});

describe('fromTokenFile', () => {
  it('reads the environment and sends the file content', async () => {
    const t = await setup();
    const dir = await tempDir();
    const file = join(dir, 'token');
    await writeFile(file, `${token('pod')}\n`);
    const env = { AWS_WEB_IDENTITY_TOKEN_FILE: file, AWS_ROLE_ARN: ROLE('irsa'), AWS_ROLE_SESSION_NAME: 'pod-session' };
    const p = fromTokenFile({ env, sts: t.sts, now: t.clock.now });
    expect(providerNameOf(p)).toBe('token-file');
    await p();
    expect(t.server.requests[0]?.params).toMatchObject({ RoleArn: ROLE('irsa'), RoleSessionName: 'pod-session', WebIdentityToken: token('pod') });
  });

  it('options override the environment', async () => {
    const t = await setup();
    const dir = await tempDir();
    await writeFile(join(dir, 'a'), token('a'));
    await writeFile(join(dir, 'b'), token('b'));
    const env = { AWS_WEB_IDENTITY_TOKEN_FILE: join(dir, 'a'), AWS_ROLE_ARN: ROLE('env'), AWS_ROLE_SESSION_NAME: 'env-session' };
    const p = fromTokenFile({ env, webIdentityTokenFile: join(dir, 'b'), roleArn: ROLE('opt'), roleSessionName: 'opt-session', durationSeconds: 900, sts: t.sts, now: t.clock.now });
    await p();
    expect(t.server.requests[0]?.params).toMatchObject({ RoleArn: ROLE('opt'), RoleSessionName: 'opt-session', WebIdentityToken: token('b'), DurationSeconds: '900' });
  });

  it('is not-found when no token file is configured', async () => {
    const t = await setup();
    const p = fromTokenFile({ env: { AWS_ROLE_ARN: ROLE('irsa') }, sts: t.sts, now: t.clock.now });
    await expect(p()).rejects.toBeInstanceOf(CredentialsNotFound);
    await expect(p()).rejects.toThrow(/AWS_WEB_IDENTITY_TOKEN_FILE is not set/);
    expect(t.server.counts.total).toBe(0);
  });

  it('a token file without a role ARN is a real error', async () => {
    const t = await setup();
    const p = fromTokenFile({ env: { AWS_WEB_IDENTITY_TOKEN_FILE: '/var/run/token' }, sts: t.sts });
    const error = await p().catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(CredentialsNotFound);
    expect(String(error)).toMatch(/\/var\/run\/token is configured but no role is: set AWS_ROLE_ARN/);
  });

  it('missing, directory or empty files are real errors naming the path', async () => {
    const t = await setup();
    const dir = await tempDir();
    const empty = join(dir, 'empty');
    await writeFile(empty, ' \n');
    const folder = join(dir, 'folder');
    await mkdir(folder);
    const cases: [string, RegExp][] = [
      [join(dir, 'missing'), /it does not exist/],
      [empty, /it is empty/],
      [folder, /it is a directory/],
    ];
    for (const [path, why] of cases) {
      const p = fromTokenFile({ env: { AWS_WEB_IDENTITY_TOKEN_FILE: path, AWS_ROLE_ARN: ROLE('irsa') }, sts: t.sts });
      const error = await p().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WebIdentityTokenFileError);
      expect((error as Error).message).toContain(path);
      expect((error as Error).message).toMatch(why);
    }
    expect(t.server.counts.total).toBe(0);
  });

  // Root reads a mode-000 file anyway, so as root the read runs with the effective uid of `nobody`
  // (seteuid, undone right after; the saved uid stays 0). Where neither works the test says it skipped.
  it('an unreadable token file is a real error saying permission denied, naming the path', async (ctx) => {
    const asRoot = process.getuid?.() === 0;
    if (process.getuid === undefined || (asRoot && process.seteuid === undefined)) {
      ctx.skip('no POSIX uids on this platform: cannot make a file unreadable');
    }
    const t = await setup();
    const dir = await tempDir();
    await chmod(dir, 0o755); // `nobody` may enter the folder; only the file's own mode refuses
    const locked = join(dir, 'locked');
    await writeFile(locked, token('x'));
    await chmod(locked, 0o000);
    const p = fromTokenFile({ env: { AWS_WEB_IDENTITY_TOKEN_FILE: locked, AWS_ROLE_ARN: ROLE('irsa') }, sts: t.sts });
    if (asRoot) process.seteuid!(65534);
    let error: unknown;
    try {
      error = await p().catch((e: unknown) => e);
    } finally {
      if (asRoot) process.seteuid!(0);
    }
    expect(error).toBeInstanceOf(WebIdentityTokenFileError);
    expect((error as Error).message).toContain(locked);
    expect((error as Error).message).toMatch(/permission denied/);
    expect(t.server.counts.total).toBe(0);
  });

  it('reads the file again on every renewal: the second renewal sends the rotated token', async () => {
    const t = await setup();
    const dir = await tempDir();
    const file = join(dir, 'token');
    await writeFile(file, token('v1'));
    const p = fromTokenFile({ env: { AWS_WEB_IDENTITY_TOKEN_FILE: file, AWS_ROLE_ARN: ROLE('irsa') }, sts: t.sts, now: t.clock.now, refresh: t.refresh });
    const first = await p();
    await writeFile(file, token('v2')); // kubelet rotates the projected token
    expect(await p()).toBe(first); // still fresh: no read, no call
    t.clock.advance(55 * MINUTE);
    const second = await p();
    expect(second.accessKeyId).not.toBe(first.accessKeyId);
    await writeFile(file, token('v3'));
    t.clock.advance(55 * MINUTE);
    await p();
    expect(t.server.requests.map((r) => r.params.WebIdentityToken)).toEqual([token('v1'), token('v2'), token('v3')]);
  });
});
