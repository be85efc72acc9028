import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync, readdirSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigParseError, ProfileConfigError } from '../../src/config/errors.js';
import type { Credentials } from '../../src/credentials.js';
import { CredentialsError, CredentialsNotFound, isNotFound } from '../../src/errors.js';
import { fromIni, type FromIniOptions } from '../../src/providers/profile/ini.js';
import { startReplayServer, type RecordedTraffic, type ReplayServer } from '../../src/testing/replay-server.js';
import { CONFORMANCE_DIR } from '../config/conformance.js';
import { filesUnder, readScenario, type Expected } from '../helpers/smithy-scenario.js';

/**
 * smithy-rs `profile-provider/` scenarios, read in place and found by listing the folder. Each runs
 * `fromIni` alone: `env.json` as the environment, `fs/` copied into a temp dir (HOME and absolute
 * paths rewritten to it), the recorded STS traffic replayed from a loopback server.
 *
 * Pointing STS at the replay server: when the recording went to a configured endpoint (the
 * `assume_role_override_*` cases: `AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_STS`, `endpoint_url`, a
 * `[services]` section), that URL is rewritten in env.json and the files, so the case checks which
 * setting we obey. When it went to a regional endpoint (`https://sts.<region>.amazonaws.com`), the
 * endpoint is passed as the `sts.endpoint` option and the SigV4 credential scope must name <region>.
 * The SSO portal (`https://portal.sso.<region>.amazonaws.com`) is pointed at it by the `sso.endpoint`
 * option the same way; `AWS_ENDPOINT_URL` (sso_override_global_env_url) is rewritten like the STS ones.
 */
const ROOT = path.join(CONFORMANCE_DIR, 'smithy-rs', 'profile-provider');

/** Out of scope or deliberately different, with the reason (the README lists these as out of scope). */
const SKIPPED: Record<string, string> = {
  credential_process:
    'credential_process cases are out of scope (README); their command is `echo <base64> | base64 --decode`, which needs a shell, and we run credential_process without one, as the AWS CLI does on POSIX',
  credential_process_account_id_fallback: 'same as credential_process',
  credential_process_failure: 'same as credential_process (its command is the shell builtin `exit 1`)',
  credential_process_invalid: 'same as credential_process',
  e2e_fips_and_dual_stack_sts: 'out of scope (README): profile use_fips_endpoint / use_dualstack_endpoint are not read by fromIni',
};

/**
 * SSO profiles whose `sso_session` has no sso_account_id / sso_role_name only give an access token
 * (AWS Builder ID): a config error naming the missing key, before any request (Rust: "selected
 * profile will resolve an access token instead of credentials").
 */
const SSO_TOKEN_ONLY_CASES = new Set(['sso_token', 'invalid_sso_credentials_config']);

/**
 * Every STS request goes through this agent: it connects to 127.0.0.1 only, and being an http agent
 * it makes an https (real AWS) URL fail before any connection. So a regression that picks the wrong
 * endpoint fails the case here instead of reaching AWS.
 */
class LoopbackOnlyAgent extends http.Agent {
  override createConnection(...args: Parameters<http.Agent['createConnection']>): ReturnType<http.Agent['createConnection']> {
    const host = (args[0] as { host?: string }).host;
    if (host !== '127.0.0.1') throw new Error(`test agent: refusing to connect to ${String(host)}`);
    return super.createConnection(...args);
  }
}
const loopbackOnly = new LoopbackOnlyAgent();

interface Scenario {
  readonly dir: string;
  readonly env: Record<string, string>;
  readonly options: FromIniOptions;
  readonly replay: ReplayServer;
  readonly logs: string[];
  /** The region the recording's regional endpoint names, when STS was pointed at the server by option. */
  readonly regionalEndpointRegion: string | undefined;
  readonly expected: Expected;
  /** The SSO access tokens of the case's token cache: secrets that must reach no log line. */
  readonly ssoTokens: readonly string[];
}

let scratch: string;
const servers: ReplayServer[] = [];
beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'credchain-profile-provider-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function setUp(name: string): Promise<Scenario> {
  const caseDir = path.join(ROOT, name);
  const { rawEnv, traffic, expected } = await readScenario(caseDir);

  // content-type is compared below by media type: the StsClient adds `; charset=utf-8` (as botocore
  // and the JS SDK do), the Rust recording has none.
  const replay = await startReplayServer(withSortedQueries(traffic), { checkHeaders: ['x-aws-ec2-metadata-token', 'x-amz-sso_bearer_token'] });
  servers.push(replay);
  const origins = new Set(traffic.events.flatMap((e) => (e.action.Request ? [new URL(e.action.Request.request.uri).origin] : [])));
  const regional = [...origins].map((o) => /^https:\/\/sts\.([a-z0-9-]+)\.amazonaws\.com$/.exec(o)).find((m) => m !== null);
  const ssoPortal = [...origins].some((o) => /^https:\/\/portal\.sso\.[a-z0-9-]+\.amazonaws\.com$/.test(o));
  const configured = [...origins].filter((o) => !/amazonaws\.com$/.test(o));
  const rewriteUrls = (text: string) => configured.reduce((t, origin) => t.split(origin).join(replay.endpoint), text);

  const dir = await mkdtemp(path.join(scratch, `${name}-`));
  if (existsSync(path.join(caseDir, 'fs'))) await cp(path.join(caseDir, 'fs'), dir, { recursive: true });
  for (const file of await filesUnder(dir)) await writeFile(file, rewriteUrls(await readFile(file, 'utf8')));
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(rawEnv)) env[key] = value.startsWith('/') ? path.join(dir, value) : rewriteUrls(value);

  const logs: string[] = [];
  const capture = (...args: unknown[]) => logs.push(args.map((a) => (typeof a === 'string' ? a : inspect(a))).join(' '));
  const expiryMs = (expected.Ok?.expiry ?? 0) * 1000;
  const options: FromIniOptions = {
    env,
    logger: { debug: capture, info: capture, warn: capture, error: capture },
    // The recorded credentials expired in 2021: run the case half an hour before that.
    now: () => expiryMs - 30 * 60_000,
    sts: { baseDelay: 1, maxDelay: 5, agent: loopbackOnly, ...(regional ? { endpoint: replay.endpoint } : {}) },
    sso: { agent: loopbackOnly, ...(ssoPortal ? { endpoint: replay.endpoint } : {}) },
  };
  const ssoTokens: string[] = [];
  for (const file of await filesUnder(path.join(dir, 'home', '.aws', 'sso', 'cache'))) {
    const { accessToken } = JSON.parse(await readFile(file, 'utf8')) as { accessToken?: string };
    if (accessToken) ssoTokens.push(accessToken);
  }
  return { dir, env, options, replay, logs, regionalEndpointRegion: regional?.[1], expected, ssoTokens };
}

/**
 * The replay server matches the query string exactly, but the order of query parameters means
 * nothing to the portal, and the recordings disagree on it (these say `role_name=…&account_id=…`,
 * the default-chain ones `account_id=…&role_name=…`). fromSso sends them sorted by name, so the
 * recorded ones are sorted too (in memory; the files are read in place, never changed).
 */
function withSortedQueries(traffic: RecordedTraffic): RecordedTraffic {
  return {
    ...traffic,
    events: traffic.events.map((event) => {
      const request = event.action.Request?.request;
      if (request === undefined || !request.uri.includes('?')) return event;
      const url = new URL(request.uri);
      url.searchParams.sort();
      return { ...event, action: { ...event.action, Request: { request: { ...request, uri: url.toString() } } } };
    }),
  };
}

async function outcome(options: FromIniOptions): Promise<{ credentials?: Credentials; error?: Error }> {
  try {
    return { credentials: await fromIni(options)() };
  } catch (error) {
    return { error: error as Error };
  }
}

const names = readdirSync(ROOT, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

describe('smithy-rs profile-provider scenarios, replayed against fromIni', () => {
  it('finds all 18 scenario folders, each either run or listed as skipped with a reason', () => {
    expect(names).toHaveLength(18);
    for (const skipped of Object.keys(SKIPPED)) expect(names).toContain(skipped);
  });

  for (const name of names) {
    if (SKIPPED[name] !== undefined) {
      // Listed in SKIPPED with its reason (need a shell, or FIPS/dual-stack): the reason is the test's title.
      it.skip(`${name}: ${SKIPPED[name]}`, () => {});
      continue;
    }

    it(name, async () => {
      const s = await setUp(name);
      const { credentials, error } = await outcome(s.options);
      const expected = s.expected;
      if (expected.Ok) {
        expect(error).toBeUndefined();
        expect(credentials).toMatchObject({
          accessKeyId: expected.Ok.access_key_id,
          secretAccessKey: expected.Ok.secret_access_key,
          sessionToken: expected.Ok.session_token,
          ...(expected.Ok.account_id !== undefined ? { accountId: expected.Ok.account_id } : {}),
        });
        expect(credentials!.expiration!.getTime() / 1000).toBe(expected.Ok.expiry);
        expect(s.replay.remaining).toBe(0);
        expect(s.replay.unmatched).toEqual([]);
        expect(s.replay.headerMismatches).toEqual([]);
        const stsRequests = s.replay.requests.filter((r) => r.method === 'POST');
        for (const request of stsRequests) {
          expect(String(request.headers['content-type']).split(';')[0]).toBe('application/x-www-form-urlencoded');
        }
        if (s.regionalEndpointRegion !== undefined) {
          for (const request of stsRequests) {
            expect(String(request.headers.authorization)).toContain(`/${s.regionalEndpointRegion}/sts/aws4_request`);
          }
        }
        const secrets = [expected.Ok.secret_access_key, expected.Ok.session_token, 'FAKE', ...s.ssoTokens].filter((x): x is string => !!x);
        for (const line of s.logs) for (const secret of secrets) expect(line).not.toContain(secret);
      } else {
        // Rust's wording differs; compare outcome classes (conformance README).
        expect(error).toBeInstanceOf(CredentialsError);
        expect(s.replay.requests).toEqual([]);
        if (name === 'empty_config') expect(error).toBeInstanceOf(CredentialsNotFound); // "provider was not enabled"
        else if (name === 'invalid_config') {
          expect(error).toBeInstanceOf(ConfigParseError); // "could not parse profile file"
          expect(error!.message).toContain(path.join(s.dir, 'home', '.aws', 'config'));
          expect(error!.message).toContain('line 2');
        } else if (SSO_TOKEN_ONLY_CASES.has(name)) {
          expect(error).toBeInstanceOf(ProfileConfigError);
          expect((error as ProfileConfigError).key).toBe('sso_account_id');
          expect(error!.message).toContain('Profile `default`');
          expect(error!.message).toContain('access token');
        } else throw new Error(`no outcome class mapped for ${name}: ${expected.ErrorContains}`);
      }
    });
  }
});
