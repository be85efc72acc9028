import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fromLogin as fromLoginPublic } from '../../../src/index.js';
import { fromIni } from '../../../src/providers/profile/index.js';
import {
  dpopPrivateKey,
  dpopProof,
  fromLogin,
  LOGIN_REFRESH_RETRY_MS,
  loginCacheFile,
  LoginSessionError,
  resetLoginRefreshState,
  signinEndpoint,
  type FromLoginOptions,
} from '../../../src/providers/login/index.js';
import { StsClient } from '../../../src/sts/client.js';
import { generateDpopKey, startSigninServer, type SigninServer } from '../../../src/testing/signin-server.js';
import { STS_SERVER_DEFAULT_USER, startStsServer } from '../../../src/testing/sts-server.js';

/** `aws login` console credentials (login_session) against real cache files and a loopback Sign-In service that checks DPoP proofs. */

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.parse('2031-05-01T09:00:00Z');
const SESSION = 'arn:aws:sts::111122223333:assumed-role/Admin/alice';
const CLIENT_ID = 'arn:aws:signin:::devtools/same-device';
const REFRESH = 'signin-REFRESH-CANARY-0';
const KEY = generateDpopKey();
const OTHER_KEY = generateDpopKey();

let root = '';
let home = '';
let n = 0;
let now = T0;
const clock = () => now;
let signin: SigninServer;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'credchain-login-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});
beforeEach(async () => {
  resetLoginRefreshState();
  now = T0;
  home = path.join(root, `home-${++n}`);
  await mkdir(cacheDir(), { recursive: true });
  signin = await startSigninServer({ now: clock });
  signin.addSession({ clientId: CLIENT_ID, refreshToken: REFRESH, dpopKey: KEY });
});
afterEach(async () => {
  await signin.close();
});

const cacheDir = () => path.join(home, '.aws', 'login', 'cache');
const cachePath = (session = SESSION) => loginCacheFile(session, cacheDir());

/** A cache file as `aws login` writes it, its credentials expiring `leftMs` after now. */
function record(leftMs: number, extra: Record<string, unknown> = {}, access: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    accessToken: {
      accessKeyId: 'ASIALOGIN0000000001',
      secretAccessKey: 'loginSecret/CANARY0123456789abcdefghijkl',
      sessionToken: 'loginSessionToken-CANARY',
      accountId: '111122223333',
      expiresAt: new Date(now + leftMs).toISOString().replace('.000Z', 'Z'),
      ...access,
    },
    tokenType: 'aws_sigv4',
    clientId: CLIENT_ID,
    refreshToken: REFRESH,
    idToken: 'eyJhbGciOiJFUzM4NCJ9.e30.sig',
    dpopKey: KEY,
    somethingNew: [1, 2],
    ...extra,
  };
}
const writeCache = (content: Record<string, unknown>, session = SESSION) => writeFile(cachePath(session), JSON.stringify(content));
const readCache = async () => JSON.parse(await readFile(cachePath(), 'utf8')) as Record<string, unknown>;

function login(options: Partial<FromLoginOptions> = {}) {
  return fromLogin({ loginSession: SESSION, profile: 'console', endpoint: signin.endpoint, env: { HOME: home }, now: clock, ...options });
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  if (outcome === undefined) throw new Error('expected the call to fail');
  return outcome;
}

const SECRETS = ['loginSecret/CANARY', 'loginSessionToken-CANARY', REFRESH, 'signin-refresh-token-1', 'BEGIN EC PRIVATE KEY', KEY.split('\n')[1]!];
function expectNoSecrets(error: Error) {
  const text = `${error.message} ${String(error.cause)} ${JSON.stringify(error)} ${inspect(error, { depth: 5 })}`;
  for (const secret of SECRETS) expect(text).not.toContain(secret);
}

describe('fromLogin', () => {
  it('valid cached credentials are returned as they are, with the account id; nothing is sent', async () => {
    await writeCache(record(10 * MIN));
    const credentials = await login()();
    expect(credentials).toMatchObject({
      accessKeyId: 'ASIALOGIN0000000001',
      secretAccessKey: 'loginSecret/CANARY0123456789abcdefghijkl',
      sessionToken: 'loginSessionToken-CANARY',
      accountId: '111122223333',
    });
    expect(credentials.expiration?.getTime()).toBe(T0 + 10 * MIN);
    expect(signin.requests).toHaveLength(0);
    expect(inspect(credentials)).not.toContain('loginSecret');
  });

  it('the cache file is the SHA-256 of the login_session in AWS_LOGIN_CACHE_DIRECTORY, else ~/.aws/login/cache', async () => {
    expect(loginCacheFile('arn:aws:sts::012345678910:assumed-role/Admin/admin', '/c')).toBe(
      '/c/4b0ba8f99f075c0633e122fd73346ce203a3faf18ea0310eb2d29df1bab2e255.json',
    );
    const elsewhere = path.join(home, 'elsewhere');
    await mkdir(elsewhere);
    await writeFile(loginCacheFile(SESSION, elsewhere), JSON.stringify(record(10 * MIN, {}, { accessKeyId: 'ASIAELSEWHERE000001' })));
    await writeCache(record(10 * MIN));
    expect((await login({ env: { HOME: home, AWS_LOGIN_CACHE_DIRECTORY: elsewhere } })()).accessKeyId).toBe('ASIAELSEWHERE000001');
    expect((await login()()).accessKeyId).toBe('ASIALOGIN0000000001');
  });

  it('the Sign-In endpoint is <region>.signin.aws.amazon.com (and the cn / us-gov partitions); a region that is not one is refused', () => {
    expect(signinEndpoint('us-east-2')).toBe('https://us-east-2.signin.aws.amazon.com');
    expect(signinEndpoint('cn-north-1')).toBe('https://cn-north-1.signin.amazonaws.cn');
    expect(signinEndpoint('us-gov-west-1')).toBe('https://us-gov-west-1.signin.amazonaws-us-gov.com');
    expect(() => signinEndpoint('x.evil/')).toThrow('not a region name');
  });

  it('within 5 minutes of expiry: CreateOAuth2Token with a DPoP proof the service verifies; new credentials written back atomically, other fields kept', async () => {
    await writeCache(record(4 * MIN));
    const credentials = await login()();
    expect(signin.requests).toEqual([
      { method: 'POST', path: '/v1/token', body: { clientId: CLIENT_ID, grantType: 'refresh_token', refreshToken: REFRESH }, dpop: 'ok', status: 200 },
    ]);
    const issued = signin.issued[0]!;
    expect(credentials).toMatchObject({ accessKeyId: issued.accessKeyId, secretAccessKey: issued.secretAccessKey, sessionToken: issued.sessionToken, accountId: '111122223333' });
    expect(credentials.expiration?.getTime()).toBe(T0 + 900_000);
    const before = record(4 * MIN);
    expect(await readCache()).toEqual({
      ...before,
      accessToken: { ...(before.accessToken as object), accessKeyId: issued.accessKeyId, secretAccessKey: issued.secretAccessKey, sessionToken: issued.sessionToken, expiresAt: '2031-05-01T09:15:00Z' },
      refreshToken: 'signin-refresh-token-1',
    });
    expect((await stat(cachePath())).mode & 0o777).toBe(0o600);
    expect(await readdir(cacheDir())).toEqual([path.basename(cachePath())]);
    // 11 minutes on, the rotated refresh token is used.
    now += 11 * MIN;
    await login()();
    expect(signin.requests.map((r) => [r.body?.refreshToken, r.status])).toEqual([
      [REFRESH, 200],
      ['signin-refresh-token-1', 200],
    ]);
  });

  it('one refresh in flight per session, shared by concurrent calls', async () => {
    await writeCache(record(-MIN));
    signin.addFault({ delayMs: 150 });
    const [a, b] = [login(), login()];
    const all = await Promise.all([a(), b(), a(), b()]);
    expect(new Set(all.map((c) => c.accessKeyId))).toEqual(new Set([signin.issued[0]!.accessKeyId]));
    expect(signin.requests).toHaveLength(1);
  });

  it('a failed refresh falls back to still-valid credentials, and is not retried for 30 s', async () => {
    await writeCache(record(4 * MIN));
    signin.revoke(REFRESH);
    const warnings: string[] = [];
    const credentials = await login({ logger: { warn: (m: string) => warnings.push(m) } })();
    expect(credentials.accessKeyId).toBe('ASIALOGIN0000000001');
    expect(warnings.join('\n')).toContain('HTTP 401 AccessDeniedException TOKEN_EXPIRED');
    expect(warnings.join('\n')).not.toContain(REFRESH);
    now += LOGIN_REFRESH_RETRY_MS - 1000;
    await login()();
    expect(signin.requests).toHaveLength(1);
    now += 2000;
    await login()();
    expect(signin.requests).toHaveLength(2);
  });

  describe('errors name the session, the profile and `aws login --profile`, and never show a secret', () => {
    const cases: Array<[string, () => Promise<unknown>, string, Partial<FromLoginOptions>?]> = [
      ['no cache file', async () => undefined, 'has no cached token (no '],
      ['not JSON', () => writeFile(cachePath(), `{"refreshToken":"${REFRESH}", oops`), 'is not valid JSON'],
      ['no accessToken', () => writeCache(record(HOUR, { accessToken: undefined })), 'without accessToken'],
      ['no accountId', () => writeCache(record(HOUR, {}, { accountId: undefined })), 'without accessToken.accountId'],
      ['no refreshToken, dpopKey', () => writeCache(record(HOUR, { refreshToken: undefined, dpopKey: undefined })), 'without refreshToken, dpopKey'],
      ['expired, refresh rejected', async () => {
        await writeCache(record(-1000));
        signin.revoke(REFRESH);
      }, 'expired at 2031-05-01T08:59:59.000Z and could not be refreshed: Sign-In CreateOAuth2Token (http://127.0.0.1:'],
      ['expired, session revoked: the reason in words', async () => {
        await writeCache(record(-1000));
        signin.revoke(REFRESH);
      }, 'TOKEN_EXPIRED (the console session has expired)'],
      ['expired, a proof with another key', () => writeCache(record(-1000, { dpopKey: OTHER_KEY })), 'answered HTTP 400 ValidationException INVALID_REQUEST'],
      ['expired, a dpopKey that is not a key', () => writeCache(record(-1000, { dpopKey: 'not a key' })), 'the dpopKey is not a PEM private key'],
      ['expired, no region for the endpoint', () => writeCache(record(-1000)), 'no region is set for the Sign-In endpoint', { endpoint: undefined }],
      ['expired, service down', () => writeCache(record(-1000)), 'failed (network ECONNREFUSED)', { endpoint: 'http://127.0.0.1:1' }],
    ];
    for (const [name, prepare, says, options] of cases) {
      it(name, async () => {
        await prepare();
        const error = await failure(login(options)());
        expect(error).toBeInstanceOf(LoginSessionError);
        expect(error.message).toContain(says);
        expect(error.message).toContain(`The console login session ${SESSION} of profile \`console\``);
        expect(error.message).toContain('run `aws login --profile console`');
        expectNoSecrets(error);
      });
    }
  });

  it('fromLogin() without loginSession reads the profile (region, login_session); a profile without one is "not found"', async () => {
    const config = path.join(home, '.aws', 'config');
    await writeFile(config, `[profile console]\nlogin_session = ${SESSION}\nregion = us-east-2\n[profile plain]\nregion = us-east-2\n`);
    await writeCache(record(10 * MIN));
    const env = { HOME: home };
    await expect(fromLoginPublic({ profile: 'console', env, now: clock })()).resolves.toMatchObject({ accessKeyId: 'ASIALOGIN0000000001' });
    const error = await failure(fromLoginPublic({ profile: 'plain', env, now: clock })());
    expect(error.name).toBe('CredentialsNotFound');
    expect(error.message).toContain('Profile `plain` does not set login_session');
  });

  it('fromIni: login_session profile refreshes through AWS_ENDPOINT_URL_SIGNIN, and is the base of a role chain', async () => {
    const sts = await startStsServer({ now: clock });
    try {
      const session = (await new StsClient({ credentials: STS_SERVER_DEFAULT_USER, endpoint: sts.url, region: 'us-east-2', now: clock }).getSessionToken()).credentials;
      const config = path.join(home, '.aws', 'config');
      await writeFile(
        config,
        `[profile admin]\nrole_arn = arn:aws:iam::444455556666:role/admin\nsource_profile = console\n[profile console]\nlogin_session = ${SESSION}\nregion = us-east-2\n`,
      );
      await writeCache(record(10 * MIN, {}, { accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey, sessionToken: session.sessionToken }));
      const ini = (profile: string) =>
        fromIni({ profile, configFile: config, credentialsFile: path.join(home, '.aws', 'credentials'), env: { HOME: home, AWS_ENDPOINT_URL_SIGNIN: signin.endpoint }, now: clock, sts: { endpoint: sts.url, baseDelay: 1 } });
      const assumed = await ini('admin')();
      const assume = sts.requests.filter((r) => r.action === 'AssumeRole');
      expect(assume).toHaveLength(1);
      expect(assume[0]).toMatchObject({ accessKeyId: session.accessKeyId, signatureValid: true, status: 200 });
      expect(assumed.accessKeyId).toBe(sts.issued.at(-1)!.accessKeyId);
      // The base profile alone, near expiry: refreshed through the configured Sign-In endpoint.
      now += 7 * MIN;
      const refreshed = await ini('console')();
      expect(refreshed.accessKeyId).toBe(signin.issued[0]!.accessKeyId);
      expect(signin.requests[0]?.dpop).toBe('ok');
    } finally {
      await sts.close();
    }
  });
});

describe('startSigninServer checks the DPoP proof: signature, method, URL, freshness, replay, key', () => {
  async function send(dpop: string | undefined, body: Record<string, unknown> = { clientId: CLIENT_ID, grantType: 'refresh_token', refreshToken: REFRESH }, method = 'POST') {
    const response = await fetch(`${signin.endpoint}/v1/token`, { method, headers: { 'content-type': 'application/json', ...(dpop !== undefined ? { dpop } : {}) }, body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown>, verdict: signin.requests.at(-1)?.dpop };
  }
  const url = () => `${signin.endpoint}/v1/token`;
  const key = dpopPrivateKey(KEY);

  it('a good proof passes (and the same proof twice is a replay)', async () => {
    const proof = dpopProof(key, 'POST', url(), now);
    expect(await send(proof)).toMatchObject({ status: 200, verdict: 'ok' });
    expect(await send(proof)).toMatchObject({ status: 400, verdict: 'replayed', body: { error: 'INVALID_REQUEST' } });
  });

  it('each broken proof is refused with its reason', async () => {
    const good = dpopProof(key, 'POST', url(), now);
    const [h, p, s] = good.split('.') as [string, string, string];
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), jti: 'x' })).toString('base64url')}.${s}`;
    const verdicts = [
      (await send(undefined)).verdict,
      (await send('a.b')).verdict,
      (await send(tampered)).verdict,
      (await send(dpopProof(key, 'PUT', url(), now))).verdict,
      (await send(dpopProof(key, 'POST', `${url()}x`, now))).verdict,
      (await send(dpopProof(key, 'POST', url(), now - 2 * MIN))).verdict,
      (await send(dpopProof(dpopPrivateKey(OTHER_KEY), 'POST', url(), now))).verdict,
    ];
    expect(verdicts).toEqual(['missing', 'malformed', 'bad-signature', 'wrong-method', 'wrong-url', 'stale', 'wrong-key']);
    expect(signin.issued).toHaveLength(0);
  });
});

// ---- the smithy-rs login provider cases (fixtures/login/login-provider-test-cases.json) -------------

interface LoginCase {
  documentation: string;
  configContents: string;
  cacheContents: Record<string, Record<string, unknown>>;
  mockApiCalls?: Array<{ request: { tokenInput: Record<string, string> }; response?: { tokenOutput: { accessToken: Record<string, string>; refreshToken: string; expiresIn: number } }; responseCode?: number }>;
  outcomes: Array<{ result: 'credentials' | 'error' | 'cacheContents'; [key: string]: unknown }>;
}
const FIXTURE = fileURLToPath(new URL('../../../fixtures/login/login-provider-test-cases.json', import.meta.url));
const FIXED_NOW = Date.parse('2025-11-19T00:00:00Z');

describe('smithy-rs login-provider-test-cases.json (fixed time 2025-11-19T00:00:00Z, region us-east-2), through fromIni', async () => {
  const cases = JSON.parse(await readFile(FIXTURE, 'utf8')) as LoginCase[];
  it('has the 8 cases', () => expect(cases).toHaveLength(8));
  for (const testCase of cases) {
    it(testCase.documentation, async () => {
      now = FIXED_NOW;
      const config = path.join(home, '.aws', 'config');
      await writeFile(config, testCase.configContents);
      for (const [file, content] of Object.entries(testCase.cacheContents)) await writeFile(path.join(cacheDir(), file), JSON.stringify(content));
      for (const call of testCase.mockApiCalls ?? []) {
        const cached = Object.values(testCase.cacheContents)[0]!;
        if (call.response) {
          const out = call.response.tokenOutput;
          signin.addSession({
            clientId: call.request.tokenInput.clientId!,
            refreshToken: call.request.tokenInput.refreshToken!,
            dpopKey: cached.dpopKey as string,
            issue: { accessKeyId: out.accessToken.accessKeyId!, secretAccessKey: out.accessToken.secretAccessKey!, sessionToken: out.accessToken.sessionToken!, refreshToken: out.refreshToken, expiresIn: out.expiresIn },
          });
        } else if (call.responseCode !== undefined) {
          signin.addFault({ status: call.responseCode, body: '{"error":"refresh_failed"}' });
        }
      }
      const provider = fromIni({
        profile: 'signin',
        configFile: config,
        credentialsFile: path.join(home, '.aws', 'credentials'),
        env: { HOME: home, AWS_REGION: 'us-east-2', AWS_ENDPOINT_URL_SIGNIN: signin.endpoint },
        now: clock,
      });
      const result = await provider().then(
        (c) => ({ ok: true as const, c }),
        (e: unknown) => ({ ok: false as const, e: e as Error }),
      );
      for (const outcome of testCase.outcomes) {
        if (outcome.result === 'credentials') {
          expect(result.ok).toBe(true);
          if (!result.ok) return;
          expect(result.c).toMatchObject({ accessKeyId: outcome.accessKeyId, secretAccessKey: outcome.secretAccessKey, sessionToken: outcome.sessionToken, accountId: outcome.accountId });
          expect(result.c.expiration?.toISOString().replace('.000Z', 'Z')).toBe(outcome.expiresAt);
        } else if (outcome.result === 'error') {
          expect(result.ok).toBe(false);
          if (result.ok) return;
          expect(result.e.message).toContain('aws login --profile signin');
          expect(result.e.message).not.toContain('BEGIN EC PRIVATE KEY');
        } else {
          for (const [file, expected] of Object.entries(outcome).filter(([k]) => k !== 'result')) {
            const actual = JSON.parse(await readFile(path.join(cacheDir(), file), 'utf8')) as Record<string, Record<string, unknown>>;
            const { expiresAt: _e, ...expectedAccess } = (expected as Record<string, Record<string, unknown>>).accessToken!;
            const { expiresAt, ...actualAccess } = actual.accessToken!;
            expect(actualAccess).toEqual(expectedAccess);
            // See fixtures/login/README.md: the case's own credentials outcome says fixed time + 900 s.
            expect(expiresAt).toBe('2025-11-19T00:15:00Z');
            expect({ ...actual, accessToken: undefined }).toEqual({ ...(expected as object), accessToken: undefined });
          }
        }
      }
      if (testCase.mockApiCalls?.some((c) => c.response)) expect(signin.requests.map((r) => r.dpop)).toEqual(['ok']);
    });
  }
});

