import { chmod, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CredentialsError, isNotFound } from '../../../src/errors.js';
import { providerNameOf } from '../../../src/provider.js';
import { fromSso, ssoPortalEndpoint, SsoPortalError, ssoTokenCacheFile, SsoTokenError, type FromSsoOptions } from '../../../src/providers/sso/sso.js';
import { ACCOUNT, cachedToken, ROLE, ROLE_CREDS, SSO_T0, START_URL, TOKEN, sha1, startSsoPortal, useSsoWorld } from '../../helpers/sso-portal.js';

/** fromSso against real token cache files and a loopback SSO portal (fromIni's SSO profiles: sso-ini.test.ts). */

const world = useSsoWorld();
const T0 = SSO_T0;

function sso(options: Partial<FromSsoOptions> = {}) {
  return fromSso({
    ssoStartUrl: START_URL,
    ssoRegion: 'eu-west-1',
    ssoAccountId: ACCOUNT,
    ssoRoleName: ROLE,
    ssoSession: 'corp',
    profileName: 'dev',
    endpoint: world.portal.endpoint,
    env: { HOME: world.home },
    now: world.clock,
    ...options,
  });
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  if (outcome === undefined) throw new Error('expected the call to fail');
  return outcome;
}

describe('fromSso', () => {
  it('reads the token named by the SHA-1 of the sso-session name and returns the portal role credentials', async () => {
    await world.validToken('corp');
    const provider = sso();
    const credentials = await provider();
    expect(credentials).toMatchObject({
      accessKeyId: ROLE_CREDS.accessKeyId,
      secretAccessKey: ROLE_CREDS.secretAccessKey,
      sessionToken: ROLE_CREDS.sessionToken,
      accountId: ACCOUNT,
    });
    expect(credentials.expiration?.getTime()).toBe(ROLE_CREDS.expirationMs);
    expect(world.portal.requests).toEqual([
      { method: 'GET', path: '/federation/credentials', accountId: ACCOUNT, roleName: ROLE, token: TOKEN },
    ]);
    expect(JSON.stringify(credentials)).not.toContain(ROLE_CREDS.secretAccessKey);
    // The name chain/explain/errors show: from named(), not a fallback.
    expect(providerNameOf(provider, 'unnamed')).toBe('sso');
  });

  it('a legacy profile (no sso-session) names its token file after the start URL', async () => {
    await world.validToken(START_URL);
    await world.validToken('corp', 'the-session-token-that-must-not-be-used');
    await sso({ ssoSession: undefined })();
    expect(world.portal.requests[0]?.token).toBe(TOKEN);
    expect(ssoTokenCacheFile({ ssoStartUrl: 'https://ssotest.awsapps.com/start' }, '/c')).toBe('/c/dace00cba5f8355ec9d274ceb2bcebdfbeed0e12.json');
    expect(ssoTokenCacheFile({ ssoSession: 'dev', ssoStartUrl: 'https://x' }, '/c')).toBe('/c/34c6fceca75e456f25e7e99531e2425c6c1de443.json');
  });

  it('the default portal is portal.sso.<sso_region>.amazonaws.com; a region that is not one is refused', () => {
    expect(ssoPortalEndpoint('eu-west-1')).toBe('https://portal.sso.eu-west-1.amazonaws.com');
    expect(() => ssoPortalEndpoint('evil.example.com/x')).toThrow(CredentialsError);
  });

  it('an invalid sso_region fails before any request (the host is never built from it)', async () => {
    await world.validToken('corp');
    const error = await failure(sso({ endpoint: undefined, ssoRegion: 'x.attacker.test#' })());
    expect(error.message).toContain('sso_region');
    expect(world.portal.requests).toEqual([]);
  });

  describe('token cache problems are real errors that say to run aws sso login, and never show the token', () => {
    const cases: Array<[string, () => Promise<unknown>, string]> = [
      ['missing', async () => undefined, 'was not found'],
      ['not JSON', () => world.writeToken('corp', `{"accessToken": "${TOKEN}", oops`), 'is not valid JSON'],
      ['no accessToken', () => world.writeToken('corp', JSON.stringify({ expiresAt: '2099-01-01T00:00:00Z' })), 'has no accessToken'],
      ['no expiresAt', () => world.writeToken('corp', JSON.stringify({ accessToken: TOKEN })), 'has no expiresAt'],
      ['bad expiresAt', () => world.writeToken('corp', JSON.stringify({ accessToken: TOKEN, expiresAt: 'tomorrow' })), 'not a date'],
      ['expired', () => world.writeToken('corp', cachedToken(TOKEN, new Date(T0 - 1000).toISOString())), 'expired at 2031-03-01T11:59:59.000Z'],
      ['expiring exactly now', () => world.writeToken('corp', cachedToken(TOKEN, new Date(T0).toISOString())), 'expired'],
    ];
    for (const [name, prepare, says] of cases) {
      it(name, async () => {
        await prepare();
        const error = await failure(sso()());
        expect(error).toBeInstanceOf(SsoTokenError);
        expect(isNotFound(error)).toBe(false);
        expect(error.message).toContain(says);
        expect(error.message).toContain(path.join(world.cacheDir(), `${sha1('corp')}.json`));
        expect(error.message).toContain('run `aws sso login --profile dev`');
        expect(error.message).toContain('sso-session `corp`');
        expect(`${error.message} ${String(error.cause)} ${JSON.stringify(error)}`).not.toContain(TOKEN);
        expect(world.portal.requests).toEqual([]);
      });
    }

    it('unreadable (a directory in its place)', async () => {
      await mkdir(path.join(world.cacheDir(), `${sha1('corp')}.json`));
      const error = await failure(sso()());
      expect(error).toBeInstanceOf(SsoTokenError);
      expect(error.message).toContain('could not be read');
      expect(error.message).toContain('EISDIR');
    });

    it.skipIf(process.getuid?.() === 0)('unreadable (no permission)', async () => {
      const file = await world.validToken('corp');
      await chmod(file, 0o000);
      const error = await failure(sso()());
      expect(error).toBeInstanceOf(SsoTokenError);
      expect(error.message).toContain('EACCES');
    });
  });

  it('a token that was refreshed by a new `aws sso login` is read at the next call', async () => {
    await world.validToken('corp', 'old-token');
    const provider = sso();
    expect((await failure(provider())).message).toContain('answered HTTP 401');
    await world.validToken('corp');
    await expect(provider()).resolves.toMatchObject({ accessKeyId: ROLE_CREDS.accessKeyId });
    expect(world.portal.requests.map((r) => r.token)).toEqual(['old-token', TOKEN]);
  });

  describe('portal failures: the status, never the body', () => {
    it('401: the SSO token was rejected; run aws sso login', async () => {
      await world.validToken('corp', 'revoked-token-CANARY');
      const error = await failure(sso()());
      expect(error).toBeInstanceOf(SsoPortalError);
      expect((error as SsoPortalError).status).toBe(401);
      expect(error.message).toContain('HTTP 401');
      expect(error.message).toContain('the SSO token was rejected');
      expect(error.message).toContain('aws sso login --profile dev');
      // The local portal echoes the token in its body: it must not be quoted.
      expect(error.message).not.toContain('revoked-token-CANARY');
      expect(error.message).not.toContain('Session token not found');
    });

    it('403 (no access to the role): the same advice, naming role and account', async () => {
      await world.validToken('corp');
      const error = await failure(sso({ ssoRoleName: 'Admin' })());
      expect((error as SsoPortalError).status).toBe(403);
      expect(error.message).toContain('the SSO token was rejected');
      expect(error.message).toContain(`role Admin in account ${ACCOUNT}`);
      expect(error.message).not.toContain(TOKEN);
    });

    it('5xx: a real error with the status and no advice to log in', async () => {
      await world.validToken('corp');
      world.portal.override = { status: 503, body: `{"message":"busy ${TOKEN}"}` };
      const error = await failure(sso()());
      expect((error as SsoPortalError).status).toBe(503);
      expect(error.message).toContain('HTTP 503');
      expect(error.message).not.toContain('aws sso login');
      expect(error.message).not.toContain('busy');
      expect(world.portal.requests).toHaveLength(1);
    });

    it('200 without usable roleCredentials (not JSON, missing fields, expiration not a number)', async () => {
      await world.validToken('corp');
      for (const body of [
        '<html>oops</html>',
        '{"roleCredentials":{"accessKeyId":"A","expiration":1}}',
        '{"roleCredentials":{"accessKeyId":"A","secretAccessKey":"LEAKY-SECRET-CANARY","expiration":"soon"}}',
        'null',
      ]) {
        world.portal.override = { status: 200, body };
        const error = await failure(sso()());
        expect(error).toBeInstanceOf(SsoPortalError);
        expect(error.message).toContain('not with roleCredentials');
        expect(error.message).not.toContain('LEAKY-SECRET-CANARY');
      }
    });

    it('connection refused: a network error naming the portal', async () => {
      await world.validToken('corp');
      const endpoint = world.portal.endpoint;
      await world.portal.close();
      const error = await failure(sso({ endpoint })());
      expect(error).toBeInstanceOf(SsoPortalError);
      expect(error.message).toContain('network ECONNREFUSED');
      expect(error.message).toContain(endpoint);
      world.portal = await startSsoPortal();
    });
  });
});
