import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NoCredentialsError } from '../../src/chain.js';
import { ProfileConfigError } from '../../src/config/errors.js';
import type { Credentials } from '../../src/credentials.js';
import { defaultChain, type DefaultChainOptions } from '../../src/default-chain.js';
import { CredentialsError, isNotFound } from '../../src/errors.js';
import { explain } from '../../src/explain.js';
import { ProfileCredentialsError } from '../../src/providers/profile/errors.js';
import { CONTAINER_SETTINGS } from '../../src/providers/metadata/container.js';
import { MetadataResponseError } from '../../src/providers/metadata/errors.js';
import { SsoPortalError, SsoTokenError } from '../../src/providers/sso/sso.js';
import { startReplayServer, type ReplayServer } from '../../src/testing/replay-server.js';
import { CONFORMANCE_DIR } from '../config/conformance.js';
import { filesUnder, readScenario, type Expected } from '../helpers/smithy-scenario.js';

/**
 * smithy-rs `default-credential-provider-chain/` scenarios, found by listing the folder and run
 * through the whole `defaultChain`: `env.json` as the environment (HOME and absolute paths rewritten
 * into a temp copy of `fs/`), the recorded IMDS and STS traffic replayed by one loopback server that
 * both `instanceMetadata.endpoint` and `sts.endpoint` point at. A case also fails if a secret of its
 * expected result reaches the logger.
 */
const ROOT = path.join(CONFORMANCE_DIR, 'smithy-rs', 'default-credential-provider-chain');

/**
 * Out of scope per the conformance README (by folder-name prefix), with the reason. The README also
 * lists `ecs_*` and `eks_pod_identity_*`; they run, now that the chain has its container link.
 */
const OUT_OF_SCOPE: ReadonlyArray<readonly [prefix: string, reason: string]> = [
  ['e2e_fips_and_dual_stack_', 'out of scope (README): FIPS / dual-stack endpoints (STS, and the SSO portal in the _sso case) are not supported'],
  ['credential_process', 'out of scope (README); never run: their command is a shell pipeline (`echo … | base64 --decode`)'],
];
const outOfScope = (name: string) => OUT_OF_SCOPE.find(([prefix]) => name.startsWith(prefix))?.[1];

/** The README: these run with the clock at the Unix epoch, or their IMDS credentials look expired. */
const EPOCH_CASES = new Set(['imds_default_chain_success', 'imds_default_chain_retries', 'imds_config_with_no_creds']);

interface Scenario {
  readonly name: string;
  readonly dir: string;
  readonly replay: ReplayServer;
  readonly logs: string[];
  readonly expected: Expected;
  readonly options: DefaultChainOptions;
  /** The region of the recording's regional STS endpoint (`https://sts.<region>.amazonaws.com`), if any. */
  readonly stsRegion: string | undefined;
  /** The web identity token of the case's fs, a secret too. */
  readonly token: string | undefined;
  /** The SSO access tokens of the case's `sso/cache` files, secrets too. */
  readonly ssoTokens: readonly string[];
}

let scratch: string;
const servers: ReplayServer[] = [];
beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'credchain-default-chain-'));
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

  // The SSO portal's bearer token is compared as the recording has it (the header the portal reads).
  const replay = await startReplayServer(traffic, { checkHeaders: ['content-type', 'x-aws-ec2-metadata-token', 'x-amz-sso_bearer_token'] });
  servers.push(replay);

  // The case's fs/ is mounted at `dir`; absolute paths in env values and config values move with it.
  const dir = await mkdtemp(path.join(scratch, `${name}-`));
  const caseFs = path.join(caseDir, 'fs');
  if (existsSync(caseFs)) await cp(caseFs, dir, { recursive: true });
  const inFs = (value: string) => value.startsWith('/') && existsSync(path.join(caseFs, value));
  for (const file of await filesUnder(dir)) {
    const text = await readFile(file, 'utf8');
    const rewritten = text.replace(/^(\s*[\w-]+\s*=\s*)(\/\S+)\s*$/gm, (line, key: string, value: string) =>
      inFs(value) ? `${key}${path.join(dir, value)}` : line,
    );
    if (rewritten !== text) await writeFile(file, rewritten);
  }
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(rawEnv)) {
    // Absolute paths move into `dir` (a missing one, like a token file the case leaves out, stays
    // missing); the relative URI is a URL path, and a full URI's recorded host is the replay server.
    if (key === CONTAINER_SETTINGS.relativeUriEnv) env[key] = value;
    else if (key === CONTAINER_SETTINGS.fullUriEnv) env[key] = value.replace(/^https?:\/\/[^/]+/, replay.endpoint);
    else env[key] = value.startsWith('/') ? path.join(dir, value) : value;
  }
  // A case without HOME must not read the machine's own ~/.aws: give it an empty home.
  if (env.HOME === undefined) {
    env.HOME = path.join(dir, 'empty-home');
    await mkdir(env.HOME, { recursive: true });
  }

  const logs: string[] = [];
  const capture = (...args: unknown[]) => logs.push(args.map((a) => (typeof a === 'string' ? a : inspect(a))).join(' '));
  // Epoch cases as the README says; the others half an hour before their recorded credentials expire.
  const expiryMs = (expected.Ok?.expiry ?? 0) * 1000;
  const now = EPOCH_CASES.has(name) ? () => 0 : expected.Ok?.expiry !== undefined ? () => expiryMs - 30 * 60_000 : undefined;
  const imds = { endpoint: replay.endpoint, retryDelayMs: 1 };
  // The ECS agent (recorded as http://169.254.170.2) is the replay server too.
  const container = { relativeUriEndpoint: replay.endpoint, retryDelayMs: 1 };
  const options: DefaultChainOptions = {
    env,
    logger: { debug: capture, info: capture, warn: capture, error: capture },
    ...(now ? { now } : {}),
    sts: { endpoint: replay.endpoint, baseDelay: 1, maxDelay: 5 },
    instanceMetadata: imds,
    containerMetadata: container,
    // `credential_source = Ec2InstanceMetadata` / `EcsContainer` reach the metadata services through the
    // profile link; SSO profiles reach the portal (recorded as https://portal.sso.<region>.amazonaws.com)
    // through the replay server.
    ini: { instanceMetadata: imds, containerMetadata: container, sso: { endpoint: replay.endpoint } },
  };
  const stsRegion = traffic.events
    .map((e) => (e.action.Request ? /^https:\/\/sts\.([a-z0-9-]+)\.amazonaws\.com\//.exec(e.action.Request.request.uri)?.[1] : undefined))
    .find((r) => r !== undefined);
  const tokenPath = path.join(caseFs, 'token.jwt');
  const token = existsSync(tokenPath) ? (await readFile(tokenPath, 'utf8')).trim() : undefined;
  const ssoTokens: string[] = [];
  for (const file of await filesUnder(path.join(caseFs, 'home', '.aws', 'sso', 'cache'))) {
    const { accessToken } = JSON.parse(await readFile(file, 'utf8')) as { accessToken?: string };
    if (accessToken) ssoTokens.push(accessToken);
  }
  return { name, dir, replay, logs, expected, options, stsRegion, token, ssoTokens };
}

async function outcome(options: DefaultChainOptions): Promise<{ credentials?: Credentials; error?: Error }> {
  try {
    return { credentials: await defaultChain(options)() };
  } catch (error) {
    return { error: error as Error };
  }
}

/** Secrets of the expected result (and of the case's files) must never reach the logger. */
function expectNoSecretsLogged(s: Scenario, extra: readonly string[] = []): void {
  const secrets = [s.expected.Ok?.secret_access_key, s.expected.Ok?.session_token, ...extra].filter((x): x is string => !!x);
  expect(secrets.length).toBeGreaterThan(0);
  for (const line of s.logs) for (const secret of secrets) expect(line, `log line leaks a secret: ${line}`).not.toContain(secret);
}

function causes(error: unknown): unknown[] {
  const out: unknown[] = [];
  for (let e = error; e instanceof Error && out.length < 10; e = e.cause) out.push(e);
  return out;
}

/**
 * Our STS client sends `application/x-www-form-urlencoded; charset=utf-8` (as the JS SDK does) where
 * Rust sent it without the parameter; same media type, so that one difference is not a mismatch.
 */
function headerMismatches(replay: ReplayServer): string[] {
  return replay.headerMismatches.filter(
    (m) => !/^POST \S+: content-type expected "application\/x-www-form-urlencoded", got "application\/x-www-form-urlencoded; charset=utf-8"$/.test(m),
  );
}

/**
 * Error cases: Rust's wording differs, so each maps to the class of error we give (conformance
 * README: compare outcome classes), and to the requests it may make.
 */
const ERROR_OUTCOMES: Record<string, (s: Scenario, error: Error) => void> = {
  // An empty config file and an instance without a role: every link says "not here" (Rust: "not
  // enabled"), after the two recorded IMDS requests.
  imds_default_chain_error: (s, error) => {
    expect(error).toBeInstanceOf(NoCredentialsError);
    expect(error.message).toContain('instance-metadata');
    expect(s.replay.remaining).toBe(0);
    expect(s.replay.unmatched).toEqual([]);
  },
  // `credential_source = Ec2InstanceMetadata`, the instance has no role: the profile asked for IMDS,
  // so "no role" is a real error naming the profile (botocore: CredentialRetrievalError), not a fall-through.
  imds_no_iam_role: (s, error) => {
    expect(error).toBeInstanceOf(ProfileCredentialsError);
    expect(isNotFound(error)).toBe(false);
    expect(error.message).toContain('Ec2InstanceMetadata');
    expect(s.replay.remaining).toBe(0);
  },
  // Nothing anywhere and IMDS disabled: not-found, every link listed, no request at all.
  imds_disabled: (s, error) => {
    expect(error).toBeInstanceOf(NoCredentialsError);
    expect(error.message).toContain('AWS_EC2_METADATA_DISABLED');
    expect(s.replay.requests).toEqual([]);
  },
  // Rust-only expectation (IMDSv2 only). We, like botocore, Go v2 and Ruby, fall back to IMDSv1 after
  // the 403 on the token; the recording has no v1 exchange (501), so the profile's source fails for real.
  imds_token_fail: (s, error) => {
    expect(error).toBeInstanceOf(ProfileCredentialsError);
    expect(causes(error).some((c) => c instanceof MetadataResponseError)).toBe(true);
    expect(s.replay.requests[0]).toMatchObject({ method: 'PUT', path: '/latest/api/token', exchange: 0 });
    expect(s.replay.unmatched[0]).toMatchObject({ method: 'GET', path: '/latest/meta-data/iam/security-credentials/' });
    expect(s.replay.unmatched[0]!.headers['x-aws-ec2-metadata-token']).toBeUndefined();
  },
  // AWS_PROFILE=A with `credential_source = Environment` and no keys in the environment: a real
  // error, so the web identity link (AWS_ROLE_ARN + token file in the env) never runs.
  profile_overrides_web_identity: (s, error) => {
    expect(error).toBeInstanceOf(ProfileCredentialsError);
    expect(error.message).toContain('`A`');
    expect(s.replay.requests).toEqual([]);
  },
  // Profile B has web_identity_token_file but no role_arn; AWS_ROLE_ARN in the env must not fill it.
  web_identity_source_profile_no_env: (s, error) => {
    expect(error).toBeInstanceOf(ProfileConfigError);
    expect(error.message).toContain('role_arn');
    expect(s.replay.requests).toEqual([]);
  },
  // STS rejects the token: the STS error code survives, a real error, one request (not retried).
  // The legacy SSO profile's token file (SHA-1 of the start URL) is not in the cache (only a file of
  // another name is): a real error naming that file and saying to log in, and no portal request.
  sso_no_token_file: (s, error) => {
    expect(error).toBeInstanceOf(ProfileCredentialsError);
    expect(causes(error).some((c) => c instanceof SsoTokenError)).toBe(true);
    expect(error.message).toContain(path.join(s.dir, 'home', '.aws', 'sso', 'cache', 'dace00cba5f8355ec9d274ceb2bcebdfbeed0e12.json'));
    expect(error.message).toContain('aws sso login --profile sso-test');
    expect(s.replay.requests).toEqual([]);
  },
  // The portal answers 503: a real error with the status, one request, the token sent as recorded.
  sso_server_error: (s, error) => {
    expect(error).toBeInstanceOf(ProfileCredentialsError);
    const portal = causes(error).find((c): c is SsoPortalError => c instanceof SsoPortalError);
    expect(portal?.status).toBe(503);
    expect(error.message).toContain('HTTP 503');
    expect(s.replay.requests).toHaveLength(1);
    expect(s.replay.requests[0]).toMatchObject({ method: 'GET', path: '/federation/credentials?account_id=123456789&role_name=MySsoRole' });
    expect(s.replay.headerMismatches).toEqual([]);
  },
  // AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE names a file that is not there: a real error from the
  // container link naming the variable and the file (Rust: the OS error), and no request without the token.
  eks_pod_identity_no_token_file: (s, error) => {
    expect(isNotFound(error)).toBe(false);
    expect(error.message).toContain('container-metadata');
    expect(error.message).toContain(`${path.join(s.dir, 'token.jwt')} named by AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (it does not exist (ENOENT))`);
    expect(s.replay.requests).toEqual([]);
  },
  web_identity_token_invalid_jwt: (s, error) => {
    expect(error).toBeInstanceOf(ProfileCredentialsError);
    expect(error.message).toContain('InvalidIdentityToken');
    expect(s.replay.requests).toHaveLength(1);
    expect(error.message).not.toContain('eyJhbGciOiJSUzI1NiIs');
  },
};

const names = readdirSync(ROOT, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

describe('smithy-rs default-credential-provider-chain scenarios, replayed against defaultChain', () => {
  it('finds the 29 scenario folders; every in-scope one is run and every other one has a reason', () => {
    expect(names).toHaveLength(29);
    const inScope = names.filter((n) => outOfScope(n) === undefined);
    expect(inScope).toHaveLength(28); // 23 + the 5 ecs_* / eks_pod_identity_* cases
    for (const name of inScope) {
      for (const file of ['env.json', 'http-traffic.json', 'test-case.json']) expect(existsSync(path.join(ROOT, name, file)), `${name}/${file}`).toBe(true);
    }
  });

  for (const name of names) {
    const reason = outOfScope(name);
    if (reason !== undefined) {
      // Out of scope for this library (see outOfScope and the conformance README): the reason is the test's title.
      it.skip(`${name}: ${reason}`, () => {});
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
          ...(expected.Ok.account_id !== undefined ? { accountId: expected.Ok.account_id } : {}),
        });
        expect(credentials!.sessionToken).toBe(expected.Ok.session_token);
        if (expected.Ok.expiry !== undefined) expect(credentials!.expiration!.getTime() / 1000).toBe(expected.Ok.expiry);
        else expect(credentials!.expiration).toBeUndefined();
        expect(s.replay.remaining).toBe(0);
        expect(s.replay.unmatched).toEqual([]);
        expect(headerMismatches(s.replay)).toEqual([]);
        expectNoSecretsLogged(s, [...(s.token !== undefined ? [s.token] : []), ...s.ssoTokens]);
        // STS pointed at the replay server by option still signs for the recording's region
        // (AssumeRoleWithWebIdentity goes unsigned).
        for (const request of s.replay.requests.filter((r) => r.headers.authorization !== undefined && r.method === 'POST')) {
          expect(String(request.headers.authorization)).toContain(`/${s.stsRegion}/sts/aws4_request`);
        }
      } else {
        expect(error).toBeInstanceOf(CredentialsError);
        const check = ERROR_OUTCOMES[name];
        if (check === undefined) throw new Error(`no outcome class mapped for ${name}: ${expected.ErrorContains} (got ${error})`);
        check(s, error!);
        for (const secret of [s.token, ...s.ssoTokens].filter((x): x is string => x !== undefined)) {
          for (const line of s.logs) expect(line).not.toContain(secret);
          expect(`${error!.message} ${inspect(error, { depth: 10 })}`).not.toContain(secret);
        }
      }
    });
  }

  it('explain(defaultChain()) on prefer_environment: env won, nothing else was asked', async () => {
    const s = await setUp('prefer_environment');
    const explanation = await explain(defaultChain(s.options));
    expect(explanation.winner).toBe('env');
    expect(explanation.tried.map((a) => a.provider)).toEqual(['env']);
  });

  it('explain(defaultChain()) on imds_default_chain_success: each earlier link skipped with its reason', async () => {
    const s = await setUp('imds_default_chain_success');
    const explanation = await explain(defaultChain(s.options));
    expect(explanation.winner).toBe('instance-metadata');
    expect(explanation.tried.map((a) => `${a.provider}:${a.outcome}`)).toEqual([
      'env:skipped',
      'ini:skipped',
      'token-file:skipped',
      'container-metadata:skipped',
      'instance-metadata:resolved',
    ]);
    for (const attempt of explanation.tried.slice(0, -1)) expect(attempt.reason).toBeTruthy();
    expect(String(explanation)).not.toContain('testsecret');
    expect(String(explanation)).not.toContain('ASIARTEST');
  });

  it('eks_pod_identity_credentials: the token file is sent as the Authorization header (the recording does not keep it)', async () => {
    const s = await setUp('eks_pod_identity_credentials');
    await defaultChain(s.options)();
    expect(s.replay.requests).toHaveLength(1);
    expect(s.replay.requests[0]).toMatchObject({ method: 'GET', path: '/v1/credentials' });
    expect(s.replay.requests[0]!.headers.authorization).toBe('sometoken');
  });

  it('ecs_assume_role: the container credentials sign the AssumeRole call; their 2009 expiry is extended, with a warning', async () => {
    const s = await setUp('ecs_assume_role');
    await defaultChain(s.options)();
    const assume = s.replay.requests.find((r) => r.method === 'POST');
    expect(String(assume?.headers.authorization)).toContain('Credential=ASIARTEST/');
    expect(s.logs.some((l) => l.startsWith('container-metadata: the source returned credentials that expired at 2009-02-13T23:31:30.000Z; serving EXTENDED credentials'))).toBe(true);
    expect(s.logs.join('\n')).not.toContain('SECRETTEST');
  });

  it('the skip list only names prefixes that exist, so a renamed folder cannot be skipped silently', () => {
    for (const [prefix] of OUT_OF_SCOPE.filter(([p]) => p !== 'credential_process')) {
      expect(names.some((n) => n.startsWith(prefix)), prefix).toBe(true);
    }
  });
});
