import { chmod, readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fromIni } from '../../../src/providers/profile/index.js';
import { fromSso, SsoTokenError, type FromSsoOptions } from '../../../src/providers/sso/index.js';
import { resetSsoRefreshState, SSO_REFRESH_RETRY_MS, ssoOidcEndpoint } from '../../../src/providers/sso/oidc.js';
import { startOidcServer, type OidcServer } from '../../../src/testing/oidc-server.js';
import { ACCOUNT, HOUR, ROLE, ROLE_CREDS, SSO_T0, START_URL, TOKEN, sha1, useSsoWorld } from '../../helpers/sso-portal.js';

/** SSO token refresh (SSO-OIDC CreateToken) against real cache files, a loopback portal and a loopback OIDC service. */

const world = useSsoWorld();
const T0 = SSO_T0;
const MIN = 60_000;
const CLIENT = { clientId: 'oidc-client-id-0001', clientSecret: 'CLIENT-SECRET-CANARY-0001' };
const REFRESH = 'REFRESH-TOKEN-CANARY-0001';
let oidc: OidcServer;

beforeEach(async () => {
  resetSsoRefreshState();
  oidc = await startOidcServer();
  oidc.addGrant(CLIENT, REFRESH);
  // The portal accepts each token the OIDC service issues.
  oidc.onIssue = (token) => world.portal.validTokens.add(token);
});
afterEach(async () => {
  await oidc.close();
});

/** A cache file as `aws sso login` writes it for an sso-session, expiring `leftMs` after now. */
function tokenFile(leftMs: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    startUrl: START_URL,
    region: 'eu-west-1',
    accessToken: TOKEN,
    expiresAt: new Date(world.now + leftMs).toISOString(),
    clientId: CLIENT.clientId,
    clientSecret: CLIENT.clientSecret,
    registrationExpiresAt: new Date(T0 + 80 * 24 * HOUR).toISOString(),
    refreshToken: REFRESH,
    somethingNew: { kept: true },
    ...extra,
  };
}
const write = (key: string, content: Record<string, unknown>) => world.writeToken(key, JSON.stringify(content));
const readCache = async (key = 'corp') => JSON.parse(await readFile(path.join(world.cacheDir(), `${sha1(key)}.json`), 'utf8')) as Record<string, unknown>;

function sso(options: Partial<FromSsoOptions> = {}) {
  return fromSso({
    ssoStartUrl: START_URL,
    ssoRegion: 'eu-west-1',
    ssoAccountId: ACCOUNT,
    ssoRoleName: ROLE,
    ssoSession: 'corp',
    profileName: 'dev',
    endpoint: world.portal.endpoint,
    oidcEndpoint: oidc.endpoint,
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

const SECRETS = [TOKEN, REFRESH, CLIENT.clientSecret, 'oidc-refresh-token-1'];
function expectNoSecrets(error: Error) {
  const text = `${error.message} ${String(error.cause)} ${JSON.stringify(error)} ${inspect(error, { depth: 5 })}`;
  for (const secret of SECRETS) expect(text).not.toContain(secret);
}

describe('SSO token refresh (sso-session profiles)', () => {
  it('a token with more than 5 minutes left is used as it is: no CreateToken', async () => {
    await write('corp', tokenFile(5 * MIN + 1000));
    await sso()();
    expect(oidc.requests).toHaveLength(0);
    expect(world.portal.requests.map((r) => r.token)).toEqual([TOKEN]);
  });

  it('within 5 minutes of expiry: CreateToken, the new token is used and written back atomically with every other field kept', async () => {
    const file = await write('corp', tokenFile(4 * MIN));
    await chmod(file, 0o644);
    const credentials = await sso()();
    expect(credentials).toMatchObject({ accessKeyId: ROLE_CREDS.accessKeyId });
    expect(oidc.requests).toEqual([
      { method: 'POST', path: '/token', contentType: 'application/json', grantType: 'refresh_token', clientId: CLIENT.clientId, refreshToken: REFRESH, status: 200 },
    ]);
    expect(world.portal.requests.map((r) => r.token)).toEqual(['oidc-access-token-1']);
    const cached = await readCache();
    expect(cached).toEqual({
      ...tokenFile(0),
      accessToken: 'oidc-access-token-1',
      expiresAt: new Date(T0 + HOUR).toISOString().replace('.000Z', 'Z'),
      refreshToken: 'oidc-refresh-token-1',
    });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readdir(world.cacheDir())).toEqual([`${sha1('corp')}.json`]);
    // The next call reads the refreshed file: no second refresh.
    world.now += 10 * MIN;
    await sso()();
    expect(oidc.requests).toHaveLength(1);
    expect(world.portal.requests.map((r) => r.token)).toEqual(['oidc-access-token-1', 'oidc-access-token-1']);
  });

  it('an expired token is refreshed too, and the rotated refresh token is used the next time', async () => {
    await write('corp', tokenFile(-2 * HOUR));
    await sso()();
    world.now += HOUR - 2 * MIN;
    await sso()();
    expect(oidc.requests.map((r) => [r.refreshToken, r.status])).toEqual([
      [REFRESH, 200],
      ['oidc-refresh-token-1', 200],
    ]);
    expect((await readCache()).accessToken).toBe('oidc-access-token-2');
  });

  it('an answer without a new refresh token keeps the old one', async () => {
    await oidc.close();
    oidc = await startOidcServer({ rotateRefreshTokens: false, expiresInSeconds: 1800 });
    oidc.addGrant(CLIENT, REFRESH);
    oidc.onIssue = (token) => world.portal.validTokens.add(token);
    await write('corp', tokenFile(MIN));
    await sso()();
    expect(await readCache()).toMatchObject({ accessToken: 'oidc-access-token-1', refreshToken: REFRESH, expiresAt: '2031-03-01T12:30:00Z' });
  });

  it('one refresh in flight per session: concurrent calls (and two providers of the session) share it', async () => {
    await write('corp', tokenFile(-MIN));
    oidc.addFault({ delayMs: 150 });
    const [a, b] = [sso(), sso({ ssoRoleName: ROLE })];
    const all = await Promise.all([a(), a(), b(), b(), a()]);
    expect(all.every((c) => c.accessKeyId === ROLE_CREDS.accessKeyId)).toBe(true);
    expect(oidc.requests).toHaveLength(1);
  });

  describe('a failed refresh falls back to the still-valid token', () => {
    it('HTTP 400 invalid_grant: the cached token is used, the file is untouched, no new attempt for 30 s', async () => {
      const file = await write('corp', tokenFile(4 * MIN, { refreshToken: 'revoked-refresh-CANARY' }));
      const before = await readFile(file, 'utf8');
      const warnings: string[] = [];
      const logger = { warn: (m: string) => warnings.push(m) };
      await sso({ logger })();
      expect(world.portal.requests.map((r) => r.token)).toEqual([TOKEN]);
      expect(await readFile(file, 'utf8')).toBe(before);
      expect(warnings.join('\n')).toContain('HTTP 400 invalid_grant');
      expect(warnings.join('\n')).not.toContain('revoked-refresh-CANARY');
      world.now += SSO_REFRESH_RETRY_MS - 1000;
      await sso()();
      expect(oidc.requests).toHaveLength(1);
      world.now += 2000;
      await sso()();
      expect(oidc.requests).toHaveLength(2);
    });

    it('5xx, a body that is not a token, connection refused: the cached token is used', async () => {
      await write('corp', tokenFile(3 * MIN));
      oidc.addFault({ status: 503, body: `{"message":"busy ${REFRESH}"}` });
      await sso()();
      world.now += SSO_REFRESH_RETRY_MS;
      oidc.addFault({ status: 200, body: '{"accessToken":"x"}' });
      await sso()();
      world.now += SSO_REFRESH_RETRY_MS;
      const endpoint = oidc.endpoint;
      await sso({ oidcEndpoint: 'http://127.0.0.1:1' })();
      expect(world.portal.requests.map((r) => r.token)).toEqual([TOKEN, TOKEN, TOKEN]);
      expect(oidc.requests.map((r) => r.status)).toEqual([503, 200]);
      expect(endpoint).toBe(oidc.endpoint);
      expect((await readCache()).accessToken).toBe(TOKEN);
    });
  });

  describe('past expiry, a token that is not refreshed asks to log in, naming profile, session and reason', () => {
    const cases: Array<[string, Record<string, unknown>, string, (() => void)?]> = [
      ['refresh rejected', { refreshToken: 'revoked-refresh-CANARY' }, 'could not be refreshed: SSO-OIDC CreateToken (http://127.0.0.1:'],
      ['wrong client secret', { clientSecret: 'wrong-secret-CANARY' }, 'answered HTTP 401 invalid_client'],
      ['no refresh token', { refreshToken: undefined }, 'cannot be refreshed: the cache has no refreshToken'],
      ['no client registration', { clientId: undefined, clientSecret: undefined }, 'the cache has no clientId, clientSecret'],
      ['registration expired', { registrationExpiresAt: new Date(T0 - 1000).toISOString() }, 'its client registration expired at 2031-03-01T11:59:59.000Z'],
      ['server down', {}, 'could not be refreshed: SSO-OIDC CreateToken (http://127.0.0.1:1) failed (network ECONNREFUSED)'],
    ];
    for (const [name, fields, says] of cases) {
      it(name, async () => {
        await write('corp', tokenFile(-1000, fields));
        const error = await failure(sso(name === 'server down' ? { oidcEndpoint: 'http://127.0.0.1:1' } : {})());
        expect(error).toBeInstanceOf(SsoTokenError);
        expect(error.message).toContain('expired at 2031-03-01T11:59:59.000Z');
        expect(error.message).toContain(says);
        expect(error.message).toContain('sso-session `corp`');
        expect(error.message).toContain('run `aws sso login --profile dev`');
        expect(world.portal.requests).toEqual([]);
        expectNoSecrets(error);
        expect(error.message).not.toContain('CANARY');
      });
    }
  });

  it('an error body is never quoted, only a well-formed OAuth error code', async () => {
    await write('corp', tokenFile(-1000));
    oidc.addFault({ status: 400, body: JSON.stringify({ error: `token ${REFRESH} is bad`, error_description: REFRESH }) });
    const error = await failure(sso()());
    expect(error.message).toContain('answered HTTP 400;');
    expectNoSecrets(error);
  });

  it('legacy profiles (no sso-session) are never refreshed, as in the CLI', async () => {
    await write(START_URL, tokenFile(MIN));
    await sso({ ssoSession: undefined })();
    expect(oidc.requests).toHaveLength(0);
    world.now += 2 * MIN;
    const error = await failure(sso({ ssoSession: undefined })());
    expect(error.message).toContain('expired at');
    expect(error.message).toContain(`start URL ${START_URL}`);
    expect(oidc.requests).toHaveLength(0);
  });

  it.skipIf(process.getuid?.() === 0)('a refresh that cannot be written is used from memory, and refreshed again from memory', async () => {
    await write('corp', tokenFile(MIN));
    await chmod(world.cacheDir(), 0o500);
    try {
      await sso()();
      world.now += 30 * MIN;
      await sso()();
      expect(oidc.requests).toHaveLength(1);
      world.now += 27 * MIN;
      await sso()();
      expect(oidc.requests.map((r) => r.refreshToken)).toEqual([REFRESH, 'oidc-refresh-token-1']);
      expect(world.portal.requests.map((r) => r.token)).toEqual(['oidc-access-token-1', 'oidc-access-token-1', 'oidc-access-token-2']);
    } finally {
      await chmod(world.cacheDir(), 0o700);
    }
  });

  it('the default endpoint is oidc.<sso_region>.amazonaws.com; a region that is not one is refused', () => {
    expect(ssoOidcEndpoint('eu-west-1')).toBe('https://oidc.eu-west-1.amazonaws.com');
    expect(() => ssoOidcEndpoint('evil.example/x')).toThrow('not a region name');
  });

  it('fromIni: an sso-session profile refreshes through AWS_ENDPOINT_URL_SSO_OIDC', async () => {
    const config = path.join(world.home, '.aws', 'config');
    await writeFile(config, `[profile dev]\nsso_session = corp\nsso_account_id = ${ACCOUNT}\nsso_role_name = ${ROLE}\n[sso-session corp]\nsso_start_url = ${START_URL}\nsso_region = eu-west-1\n`);
    const stamp = new Date(Date.now() + 10_000);
    await utimes(config, stamp, stamp);
    await write('corp', tokenFile(-5 * MIN));
    const provider = fromIni({
      profile: 'dev',
      configFile: config,
      credentialsFile: path.join(world.home, '.aws', 'credentials'),
      env: { HOME: world.home, AWS_ENDPOINT_URL_SSO_OIDC: oidc.endpoint },
      now: world.clock,
      sso: { endpoint: world.portal.endpoint },
    });
    await expect(provider()).resolves.toMatchObject({ accessKeyId: ROLE_CREDS.accessKeyId });
    expect(oidc.requests).toHaveLength(1);
    expect((await readCache()).accessToken).toBe('oidc-access-token-1');
  });
});
