import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ProfileConfigError } from '../../src/config/errors.js';
import { isNotFound } from '../../src/errors.js';
import { fromIni, type FromIniOptions } from '../../src/providers/ini.js';
import { ProfileCredentialsError } from '../../src/providers/ini-errors.js';
import { SsoTokenError } from '../../src/providers/sso.js';
import { StsClient } from '../../src/sts/client.js';
import { STS_SERVER_DEFAULT_USER, startStsServer, type StsServer } from '../../src/testing/sts-server.js';
import { cachedToken, startSsoPortal, type PortalRole, type SsoPortal } from '../helpers/sso-portal.js';

/** SSO profiles of fromIni (both forms, validation, renewal, endpoints, role hops), against real files and a loopback SSO portal. */

const T0 = Date.parse('2031-03-01T12:00:00Z');
const HOUR = 3_600_000;
const START_URL = 'https://corp.awsapps.com/start';
const ACCOUNT = '111122223333';
const ROLE = 'Developer';
const TOKEN = 'sso-access-token-CANARY-0001';
const ROLE_CREDS = {
  accessKeyId: 'ASIASSOROLE000000001',
  secretAccessKey: 'ssoRoleSecret/CANARY0123456789abcdefghij',
  sessionToken: 'ssoRoleSessionToken-CANARY',
  expirationMs: T0 + HOUR,
};

let root: string;
let home: string;
let n = 0;
let portal: SsoPortal;
let t = T0;
const clock = () => t;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'credchain-sso-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});
beforeEach(async () => {
  home = path.join(root, `home-${++n}`);
  await mkdir(path.join(home, '.aws', 'sso', 'cache'), { recursive: true });
  t = T0;
  portal = await startSsoPortal();
  portal.validTokens.add(TOKEN);
  portal.roles.set(`${ACCOUNT}/${ROLE}`, ROLE_CREDS);
});
afterEach(async () => {
  await portal.close();
});

const cacheDir = () => path.join(home, '.aws', 'sso', 'cache');
const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');
async function writeToken(key: string, text: string): Promise<string> {
  const file = path.join(cacheDir(), `${sha1(key)}.json`);
  await writeFile(file, text);
  return file;
}
const validToken = (key: string, token = TOKEN) => writeToken(key, cachedToken(token, new Date(T0 + 8 * HOUR).toISOString()));

async function failure(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  if (outcome === undefined) throw new Error('expected the call to fail');
  return outcome;
}

describe('fromIni with SSO profiles', () => {
  const configPath = () => path.join(home, '.aws', 'config');
  let bump = 0;
  async function config(text: string) {
    await writeFile(configPath(), text);
    const stamp = new Date(Date.now() + ++bump * 10_000);
    await utimes(configPath(), stamp, stamp);
  }
  const ini = (options: FromIniOptions = {}) =>
    fromIni({ configFile: configPath(), credentialsFile: path.join(home, '.aws', 'credentials'), env: { HOME: home }, now: clock, sso: { endpoint: portal.endpoint }, ...options });
  const SESSION = `[sso-session corp]\nsso_start_url = ${START_URL}\nsso_region = eu-west-1\n`;

  it('sso_session form: credentials from the portal with the session-named token', async () => {
    await config(`[profile dev]\nsso_session = corp\nsso_account_id = ${ACCOUNT}\nsso_role_name = ${ROLE}\n${SESSION}`);
    await validToken('corp');
    const credentials = await ini({ profile: 'dev' })();
    expect(credentials).toMatchObject({ accessKeyId: ROLE_CREDS.accessKeyId, accountId: ACCOUNT });
    expect(portal.requests).toHaveLength(1);
  });

  it('legacy form: sso_start_url and sso_region in the profile', async () => {
    await config(`[profile old]\nsso_start_url = ${START_URL}\nsso_region = eu-west-1\nsso_account_id = ${ACCOUNT}\nsso_role_name = ${ROLE}\n`);
    await validToken(START_URL);
    await expect(ini({ profile: 'old' })()).resolves.toMatchObject({ secretAccessKey: ROLE_CREDS.secretAccessKey });
  });

  it('credentials are cached until their renewal window, then fetched again with the token of that moment', async () => {
    await config(`[profile dev]\nsso_session = corp\nsso_account_id = ${ACCOUNT}\nsso_role_name = ${ROLE}\n${SESSION}`);
    await validToken('corp');
    const provider = ini({ profile: 'dev' });
    await provider();
    t = T0 + 10 * 60_000;
    await provider();
    expect(portal.requests).toHaveLength(1);
    // Past the mandatory window (a tenth of the hour before expiry): a new login's token is used.
    portal.validTokens.add('second-login-token');
    portal.roles.set(`${ACCOUNT}/${ROLE}`, { ...ROLE_CREDS, accessKeyId: 'ASIASSOROLE000000002', expirationMs: T0 + 2 * HOUR });
    await validToken('corp', 'second-login-token');
    t = T0 + 55 * 60_000;
    await expect(provider()).resolves.toMatchObject({ accessKeyId: 'ASIASSOROLE000000002' });
    expect(portal.requests.map((r) => r.token)).toEqual([TOKEN, 'second-login-token']);
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
    expect(portal.requests).toEqual([]);
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
    await validToken('corp');
    const other = await startSsoPortal();
    other.validTokens.add(TOKEN);
    other.roles.set(`${ACCOUNT}/${ROLE}`, ROLE_CREDS);
    try {
      await config(`[profile dev]\nsso_session = corp\nsso_account_id = ${ACCOUNT}\nsso_role_name = ${ROLE}\nservices = local\n${SESSION}[services local]\nsso =\n  endpoint_url = ${other.endpoint}\n`);
      await ini({ profile: 'dev', sso: {} })();
      expect([portal.requests.length, other.requests.length]).toEqual([0, 1]);
      await ini({ profile: 'dev', sso: {}, env: { HOME: home, AWS_ENDPOINT_URL_SSO: portal.endpoint } })();
      expect([portal.requests.length, other.requests.length]).toEqual([1, 1]);
      await ini({ profile: 'dev', sso: { endpoint: other.endpoint }, env: { HOME: home, AWS_ENDPOINT_URL_SSO: portal.endpoint } })();
      expect([portal.requests.length, other.requests.length]).toEqual([1, 2]);
    } finally {
      await other.close();
    }
  });

  describe('role hops on top of SSO', () => {
    let sts: StsServer;
    let issued: PortalRole;
    beforeEach(async () => {
      // The portal hands out a session the local STS issued, so STS can check its signature and token.
      sts = await startStsServer({ now: clock });
      const client = new StsClient({ credentials: STS_SERVER_DEFAULT_USER, endpoint: sts.url, region: 'eu-west-1', now: clock });
      const { credentials } = await client.getSessionToken();
      issued = {
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: credentials.secretAccessKey,
        sessionToken: credentials.sessionToken!,
        expirationMs: credentials.expiration!.getTime(),
      };
      portal.roles.set(`${ACCOUNT}/${ROLE}`, issued);
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
      await validToken('corp');
      const credentials = await ini({ profile: 'admin', sts: { endpoint: sts.url, baseDelay: 1 } })();
      expect(portal.requests).toHaveLength(1);
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
