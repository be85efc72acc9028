import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultChain } from '../../../src/default-chain.js';
import { explain } from '../../../src/explain.js';
import { fromIni } from '../../../src/providers/profile/ini.js';
import { fromSso } from '../../../src/providers/sso/sso.js';
import { canary, SecretProbe, type Leak } from '../../helpers/secrets-probe.js';
import { startSsoPortal, type SsoPortal } from '../../helpers/sso-portal.js';

/**
 * Issue 8's canary approach for SSO: the access token, the refresh token and client secret next to
 * it in the cache file, and the role credentials the portal hands out are canaries. Every result,
 * error (message, stack, causes), provider, explain() and logger line of fromSso / fromIni / the
 * default chain, through success and every failure path, is searched for them.
 */

const T0 = Date.parse('2031-03-01T12:00:00Z');
const clock = () => T0;
const ACCOUNT = '111122223333';
const ROLE = 'Developer';
const START_URL = 'https://corp.awsapps.com/start';

let root: string;
let portal: SsoPortal;
const accessToken = canary('SESSIONTOKEN');
const role = { accessKeyId: 'ASIASSOSECRETS000001', secretAccessKey: canary('SECRETKEY'), sessionToken: canary('SESSIONTOKEN'), expirationMs: T0 + 3_600_000 };

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'credchain-sso-secrets-'));
  portal = await startSsoPortal();
  portal.validTokens.add(accessToken);
  portal.roles.set(`${ACCOUNT}/${ROLE}`, role);
});
afterAll(async () => {
  await portal.close();
  await rm(root, { recursive: true, force: true });
});

let n = 0;
/** A home with an SSO profile `dev` (sso-session `corp`) and, unless `token` is null, its token file. */
async function homeWith(token: string | null): Promise<string> {
  const home = path.join(root, `home-${++n}`);
  const cache = path.join(home, '.aws', 'sso', 'cache');
  await mkdir(cache, { recursive: true });
  await writeFile(
    path.join(home, '.aws', 'config'),
    `[profile dev]\nsso_session = corp\nsso_account_id = ${ACCOUNT}\nsso_role_name = ${ROLE}\n` +
      `[sso-session corp]\nsso_start_url = ${START_URL}\nsso_region = eu-west-1\n`,
  );
  if (token !== null) await writeFile(path.join(cache, `${createHash('sha1').update('corp').digest('hex')}.json`), token);
  return home;
}
const tokenFile = (expiresAt: string, token = accessToken) =>
  JSON.stringify({ accessToken: token, expiresAt, refreshToken: canary('SESSIONTOKEN'), clientSecret: canary('SECRETKEY'), startUrl: START_URL });

function expectNoLeaks(probe: SecretProbe): void {
  expect(probe.counts.values).toBeGreaterThan(0);
  const leaks: Leak[] = probe.leaks([accessToken, role.secretAccessKey, role.sessionToken]);
  expect(leaks, leaks.map((l) => `${l.label}: ${l.found}\n    …${l.excerpt}…`).join('\n')).toEqual([]);
}

/** Runs the three ways in (fromSso, fromIni, defaultChain) against one home; records everything. */
async function runAll(probe: SecretProbe, home: string, expectOk: boolean): Promise<void> {
  const env = { HOME: home, AWS_PROFILE: 'dev' };
  const providers = {
    sso: fromSso({ ssoStartUrl: START_URL, ssoRegion: 'eu-west-1', ssoAccountId: ACCOUNT, ssoRoleName: ROLE, ssoSession: 'corp', profileName: 'dev', endpoint: portal.endpoint, env, now: clock }),
    ini: fromIni({ env, now: clock, logger: probe.logger, sso: { endpoint: portal.endpoint } }),
    chain: defaultChain({ env, now: clock, logger: probe.logger, ini: { sso: { endpoint: portal.endpoint } }, instanceMetadata: { endpoint: 'http://127.0.0.1:9' } }),
  };
  for (const [label, provider] of Object.entries(providers)) {
    const outcome = await probe.settle(label, () => provider());
    expect(outcome.ok, `${label}: ${outcome.ok ? 'resolved' : String((outcome as { error: unknown }).error)}`).toBe(expectOk);
    if (outcome.ok) expect(outcome.value.secretAccessKey).toBe(role.secretAccessKey);
    probe.see(`${label} provider`, provider);
    probe.see(`${label} explain`, await explain(provider));
  }
}

describe('SSO: no token or secret in any result, error, explain() or log line', () => {
  it('success', async () => {
    const probe = new SecretProbe();
    await runAll(probe, await homeWith(tokenFile('2099-01-01T00:00:00Z')), true);
    expectNoLeaks(probe);
    expect(probe.counts.logLines).toBeGreaterThan(0);
  });

  const failures: Array<[string, () => string | null, (() => void)?]> = [
    ['no token file', () => null],
    ['expired token', () => tokenFile('2030-01-01T00:00:00Z')],
    ['token file that is not JSON (the parser would quote it)', () => `{"accessToken":"${accessToken}",`],
    ['token the portal rejects (401 body echoes it)', () => tokenFile('2099-01-01T00:00:00Z', canary('SESSIONTOKEN'))],
    [
      'portal 500 whose body holds the token and a secret key',
      () => tokenFile('2099-01-01T00:00:00Z'),
      () => (portal.override = { status: 500, body: `{"message":"${accessToken} ${role.secretAccessKey}"}` }),
    ],
    [
      'portal 200 with a broken roleCredentials holding a secret',
      () => tokenFile('2099-01-01T00:00:00Z'),
      () => (portal.override = { status: 200, body: `{"roleCredentials":{"secretAccessKey":"${role.secretAccessKey}","sessionToken":"${role.sessionToken}"}}` }),
    ],
  ];
  for (const [name, token, arrange] of failures) {
    it(name, async () => {
      const probe = new SecretProbe();
      arrange?.();
      try {
        await runAll(probe, await homeWith(token()), false);
      } finally {
        portal.override = undefined;
      }
      expect(probe.counts.errors).toBeGreaterThanOrEqual(3);
      expectNoLeaks(probe);
    });
  }
});
