import { utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProfileConfigError } from '../../../src/config/errors.js';
import { isNotFound } from '../../../src/errors.js';
import { fromIni, type FromIniOptions } from '../../../src/providers/profile/ini.js';
import { ProfileCredentialsError } from '../../../src/providers/profile/errors.js';
import { SsoTokenError } from '../../../src/providers/sso/sso.js';
import { StsClient } from '../../../src/sts/client.js';
import { STS_SERVER_DEFAULT_USER, startStsServer, type StsServer } from '../../../src/testing/sts-server.js';
import { ACCOUNT, HOUR, ROLE, ROLE_CREDS, SSO_T0, START_URL, TOKEN, startSsoPortal, useSsoWorld, type PortalRole } from '../../helpers/sso-portal.js';

/** SSO profiles of fromIni (both forms, validation, renewal, endpoints, role hops), against real files and a loopback SSO portal. */

const world = useSsoWorld();
const T0 = SSO_T0;

async function failure(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  if (outcome === undefined) throw new Error('expected the call to fail');
  return outcome;
}

describe('fromIni with SSO profiles', () => {
  const configPath = () => path.join(world.home, '.aws', 'config');
  let bump = 0;
  async function config(text: string) {
    await writeFile(configPath(), text);
    const stamp = new Date(Date.now() + ++bump * 10_000);
    await utimes(configPath(), stamp, stamp);
  }
  const ini = (options: FromIniOptions = {}) =>
    fromIni({ configFile: configPath(), credentialsFile: path.join(world.home, '.aws', 'credentials'), env: { HOME: world.home }, now: world.clock, sso: { endpoint: world.portal.endpoint }, ...options });
  const SESSION = `[sso-session corp]\nsso_start_url = ${START_URL}\nsso_region = eu-west-1\n`;

  it('sso_session form: credentials from the portal with the session-named token', async () => {
    await config(`[profile dev]\nsso_session = corp\nsso_account_id = ${ACCOUNT}\nsso_role_name = ${ROLE}\n${SESSION}`);
    await world.validToken('corp');
    const credentials = await ini({ profile: 'dev' })();
    expect(credentials).toMatchObject({ accessKeyId: ROLE_CREDS.accessKeyId, accountId: ACCOUNT });
    expect(world.portal.requests).toHaveLength(1);
  });

  it('legacy form: sso_start_url and sso_region in the profile', async () => {
    await config(`[profile old]\nsso_start_url = ${START_URL}\nsso_region = eu-west-1\nsso_account_id = ${ACCOUNT}\nsso_role_name = ${ROLE}\n`);
    await world.validToken(START_URL);
    await expect(ini({ profile: 'old' })()).resolves.toMatchObject({ secretAccessKey: ROLE_CREDS.secretAccessKey });
  });

  it('credentials are cached until their renewal window, then fetched again with the token of that moment', async () => {
    await config(`[profile dev]\nsso_session = corp\nsso_account_id = ${ACCOUNT}\nsso_role_name = ${ROLE}\n${SESSION}`);
    await world.validToken('corp');
    const provider = ini({ profile: 'dev' });
    await provider();
    world.now = T0 + 10 * 60_000;
    await provider();
    expect(world.portal.requests).toHaveLength(1);
    // Past the mandatory window (a tenth of the hour before expiry): a new login's token is used.
    world.portal.validTokens.add('second-login-token');
    world.portal.roles.set(`${ACCOUNT}/${ROLE}`, { ...ROLE_CREDS, accessKeyId: 'ASIASSOROLE000000002', expirationMs: T0 + 2 * HOUR });
    await world.validToken('corp', 'second-login-token');
    world.now = T0 + 55 * 60_000;
    await expect(provider()).resolves.toMatchObject({ accessKeyId: 'ASIASSOROLE000000002' });
    expect(world.portal.requests.map((r) => r.token)).toEqual([TOKEN, 'second-login-token']);
  });

  it('missing keys are config errors naming profile and key', async () => {
    const cases: Array<[string, string, string]> = [
      [`[profile p]\nsso_session = corp\nsso_role_name = ${ROLE}\n${SESSION}`, 'sso_account_id', 'sets sso_role_name but not sso_account_id'],
      [`[profile p]\nsso_session = corp\nsso_account_id = ${ACCOUNT}\n${SESSION}`, 'sso_role_name', 'sets sso_account_id but not sso_role_name'],
      [`[profile p]\nsso_session = nope\nsso_account_id = ${ACCOUNT}\nsso_role_name = ${ROLE}\n${SESSION}`, 'sso_session', 'no [sso-session nope] section'],
      [`[profile p]\nsso_session = corp\nsso_account_id = ${ACCOUNT}\nsso_role_name = ${ROLE}\n[sso-session corp]\nsso_region = eu-west-1\n`, 'sso_start_url', 'sso_start_url is not set'],
      [`[profile p]\nsso_start_url = ${START_URL}\nsso_account_id = ${ACCOUNT}\nsso_role_name = ${ROLE}\n`, 'sso_region', 'sso_region is not set'],
      [`[profile p]\nsso_session = corp\n${SESSION}`, 'sso_account_id', 'only give an SSO access token'],
    ];
    for (const [text, key, says] of cases) {
      await config(text);
      const error = await failure(ini({ profile: 'p' })());
      expect(error, says).toBeInstanceOf(ProfileConfigError);
      expect((error as ProfileConfigError).key).toBe(key);
      expect(error.message).toContain('Profile `p`');
      expect(error.message).toContain(configPath());
      expect(error.message).toContain(says);
    }
    expect(world.portal.requests).toEqual([]);
  });

  it('a missing token names the profile, its file and the login command; the chain does not move on', async () => {
    await config(`[profile dev]\nsso_session = corp\nsso_account_id = ${ACCOUNT}\nsso_role_name = ${ROLE}\n${SESSION}`);
    const error = await failure(ini({ profile: 'dev' })());
    expect(error).toBeInstanceOf(ProfileCredentialsError);
    expect(isNotFound(error)).toBe(false);
    expect(error.cause).toBeInstanceOf(SsoTokenError);
    expect(error.message).toContain('Profile `dev`');
    expect(error.message).toContain(configPath());
    expect(error.message).toContain('aws sso login --profile dev');
  });

  it('the portal endpoint: option, then AWS_ENDPOINT_URL_SSO, then the [services] sso endpoint_url', async () => {
    await world.validToken('corp');
    const other = await startSsoPortal();
    other.validTokens.add(TOKEN);
    other.roles.set(`${ACCOUNT}/${ROLE}`, ROLE_CREDS);
    try {
      await config(`[profile dev]\nsso_session = corp\nsso_account_id = ${ACCOUNT}\nsso_role_name = ${ROLE}\nservices = local\n${SESSION}[services local]\nsso =\n  endpoint_url = ${other.endpoint}\n`);
      await ini({ profile: 'dev', sso: {} })();
      expect([world.portal.requests.length, other.requests.length]).toEqual([0, 1]);
      await ini({ profile: 'dev', sso: {}, env: { HOME: world.home, AWS_ENDPOINT_URL_SSO: world.portal.endpoint } })();
      expect([world.portal.requests.length, other.requests.length]).toEqual([1, 1]);
      await ini({ profile: 'dev', sso: { endpoint: other.endpoint }, env: { HOME: world.home, AWS_ENDPOINT_URL_SSO: world.portal.endpoint } })();
      expect([world.portal.requests.length, other.requests.length]).toEqual([1, 2]);
    } finally {
      await other.close();
    }
  });

  describe('role hops on top of SSO', () => {
    let sts: StsServer;
    let issued: PortalRole;
    beforeEach(async () => {
      // The portal hands out a session the local STS issued, so STS can check its signature and token.
      sts = await startStsServer({ now: world.clock });
      const client = new StsClient({ credentials: STS_SERVER_DEFAULT_USER, endpoint: sts.url, region: 'eu-west-1', now: world.clock });
      const { credentials } = await client.getSessionToken();
      issued = {
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: credentials.secretAccessKey,
        sessionToken: credentials.sessionToken!,
        expirationMs: credentials.expiration!.getTime(),
      };
      world.portal.roles.set(`${ACCOUNT}/${ROLE}`, issued);
      sts.clearLog();
    });
    afterEach(async () => {
      await sts.close();
    });

    it('role_arn with source_profile = an SSO profile: AssumeRole signed with the SSO role credentials', async () => {
      await config(
        `[profile admin]\nrole_arn = arn:aws:iam::444455556666:role/admin\nsource_profile = dev\nregion = eu-central-1\n` +
          `[profile dev]\nsso_session = corp\nsso_account_id = ${ACCOUNT}\nsso_role_name = ${ROLE}\n${SESSION}`,
      );
      await world.validToken('corp');
      const credentials = await ini({ profile: 'admin', sts: { endpoint: sts.url, baseDelay: 1 } })();
      expect(world.portal.requests).toHaveLength(1);
      const assume = sts.requests.filter((r) => r.action === 'AssumeRole');
      expect(assume).toHaveLength(1);
      expect(assume[0]).toMatchObject({ accessKeyId: issued.accessKeyId, signatureValid: true, status: 200 });
      expect(assume[0]!.headers['x-amz-security-token']).toBe(issued.sessionToken);
      expect(assume[0]!.params.RoleArn).toBe('arn:aws:iam::444455556666:role/admin');
      expect(credentials.accessKeyId).toBe(sts.issued.at(-1)!.accessKeyId);
    });

    it('a failing SSO source names the whole chain', async () => {
      await config(
        `[profile admin]\nrole_arn = arn:aws:iam::444455556666:role/admin\nsource_profile = dev\n` +
          `[profile dev]\nsso_session = corp\nsso_account_id = ${ACCOUNT}\nsso_role_name = ${ROLE}\n${SESSION}`,
      );
      const error = await failure(ini({ profile: 'admin', sts: { endpoint: sts.url, baseDelay: 1 } })());
      expect(error).toBeInstanceOf(ProfileCredentialsError);
      expect(error.message).toContain(`SSO role ${ROLE} in account ${ACCOUNT} of profile \`dev\` -> assume arn:aws:iam::444455556666:role/admin`);
      expect(error.message).toContain('aws sso login --profile dev');
      expect(sts.requests).toEqual([]);
    });
  });
});
