import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NoCredentialsError } from '../src/chain.js';
import { ProfileConfigError, ProfileNotFoundError } from '../src/config/errors.js';
import { defaultChain, type DefaultChainOptions } from '../src/default-chain.js';
import { isNotFound } from '../src/errors.js';
import { explain } from '../src/explain.js';
import { ProfileCredentialsError } from '../src/providers/profile/errors.js';
import { regionFromInstanceMetadata } from '../src/providers/metadata/instance.js';
import { clearStsSessionCache } from '../src/providers/sts/session-cache.js';
import { StsClient } from '../src/sts/client.js';
import { startContainerServer, type ContainerServer } from '../src/testing/container-server.js';
import { startImdsServer, type ImdsServer } from '../src/testing/imds-server.js';
import { startStsServer, STS_SERVER_DEFAULT_USER as USER, type StsServer } from '../src/testing/sts-server.js';
import { makeAwsHome, unsignedJwt, type AwsHome } from './helpers/aws-home.js';

/**
 * The default chain's order and precedence, with real files in temp dirs and every HTTP link
 * pointed at a local server (STS, IMDS, container endpoint): nothing leaves the loopback interface.
 */

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/deploy`;
const ENV_KEYS = { AWS_ACCESS_KEY_ID: 'AKIDFROMENVIRONMENT', AWS_SECRET_ACCESS_KEY: 'env-secret-key-value' };
const DEV_KEYS = { id: 'AKIDFROMDEVPROFILE', secret: 'dev-profile-secret-value' };
const FILES = {
  credentials: `[dev]\naws_access_key_id = ${DEV_KEYS.id}\naws_secret_access_key = ${DEV_KEYS.secret}\n\n[user]\naws_access_key_id = ${USER.accessKeyId}\naws_secret_access_key = ${USER.secretAccessKey}\n`,
  config: [
    '[profile deploy]',
    `role_arn = ${ROLE}`,
    'source_profile = user',
    '',
    '[profile forbidden]',
    `role_arn = arn:aws:iam::${ACCOUNT}:role/not-allowed`,
    'source_profile = user',
    '',
    '[profile from-env]',
    `role_arn = ${ROLE}`,
    'credential_source = Environment',
    '',
    '[profile half-keys]',
    'aws_access_key_id = AKIDONLYHALF',
    '',
    '[profile settings-only]',
    'region = eu-west-1',
    '',
  ].join('\n'),
};

let sts: StsServer;
let imds: ImdsServer;
let container: ContainerServer;
let home: AwsHome;

beforeEach(async () => {
  sts = await startStsServer({ account: ACCOUNT, roles: { [ROLE]: {} } });
  imds = await startImdsServer();
  container = await startContainerServer();
  home = makeAwsHome(FILES);
});
afterEach(async () => {
  clearStsSessionCache();
  await Promise.all([sts.close(), imds.close(), container.close()]);
  home.remove();
});

/** A chain whose env is exactly `env` (plus HOME) and whose every HTTP link points at a local server. */
function chainWith(env: Record<string, string>, options: Omit<DefaultChainOptions, 'env'> = {}) {
  return defaultChain({
    // Safety net: an IMDS client that missed the endpoint option hits a closed loopback port, never 169.254.169.254.
    env: { HOME: home.home, AWS_EC2_METADATA_SERVICE_ENDPOINT: 'http://127.0.0.1:9', ...env },
    region: REGION,
    sts: { endpoint: sts.url, maxRetries: 0 },
    instanceMetadata: { endpoint: imds.endpoint, retryDelayMs: 1 },
    ...options,
  });
}

const outcome = async (p: () => Promise<unknown>) => p().then(
  (value) => ({ value, error: undefined }),
  (error: Error) => ({ value: undefined, error }),
);

describe('precedence: environment variables and profiles', () => {
  it('environment keys win over the profile AWS_PROFILE selects (AWS_PROFILE only selects a profile)', async () => {
    const chain = chainWith({ ...ENV_KEYS, AWS_PROFILE: 'dev' });
    expect(await chain()).toMatchObject({ accessKeyId: ENV_KEYS.AWS_ACCESS_KEY_ID });
    expect((await explain(chain)).winner).toBe('env');
  });

  it('an explicit profile option skips the environment link, as botocore does for --profile', async () => {
    const chain = chainWith(ENV_KEYS, { profile: 'dev' });
    expect(await chain()).toMatchObject({ accessKeyId: DEV_KEYS.id, secretAccessKey: DEV_KEYS.secret });
    const explanation = await explain(chain);
    expect(explanation.winner).toBe('ini');
    expect(explanation.tried.map((a) => a.provider)).toEqual(['ini']);
  });

  it('without environment keys, AWS_PROFILE selects the profile and it beats token file, container and IMDS', async () => {
    const tokenFile = home.write('token.jwt', unsignedJwt({ sub: 'ci', iss: 'https://oidc.example.com', aud: 'sts.amazonaws.com' }));
    const chain = chainWith({
      AWS_PROFILE: 'dev',
      AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
      AWS_ROLE_ARN: ROLE,
      AWS_CONTAINER_CREDENTIALS_FULL_URI: container.url,
    });
    expect(await chain()).toMatchObject({ accessKeyId: DEV_KEYS.id });
    expect(sts.requests).toHaveLength(0);
    expect(container.requests).toHaveLength(0);
    expect(imds.requests).toHaveLength(0);
  });

  it('a role profile resolves through the local STS (AssumeRole signed with the source profile keys)', async () => {
    const chain = chainWith({ AWS_PROFILE: 'deploy' });
    const credentials = await chain();
    // Exactly the session STS issued for the role, not the source keys or anything else.
    expect(sts.issued).toHaveLength(1);
    const issued = sts.issued[0]!;
    expect(issued).toMatchObject({ kind: 'assumed-role', arn: expect.stringContaining(':assumed-role/deploy/') });
    expect(credentials).toMatchObject({ accessKeyId: issued.accessKeyId, secretAccessKey: issued.secretAccessKey, sessionToken: issued.sessionToken });
    expect(credentials.expiration?.getTime()).toBe(issued.expiresAtMs);
    expect(sts.requests.map((r) => [r.action, r.accessKeyId, r.signatureValid])).toEqual([['AssumeRole', USER.accessKeyId, true]]);
    expect(sts.requests[0]!.params.RoleArn).toBe(ROLE);
  });
});

describe('a named profile that fails is a real error, never a fall-through to IMDS', () => {
  const cases: Array<[string, Record<string, string>, Omit<DefaultChainOptions, 'env'>, (e: Error) => void]> = [
    ['AWS_PROFILE names a profile no file defines', { AWS_PROFILE: 'nope' }, {}, (e) => {
      expect(e).toBeInstanceOf(ProfileNotFoundError);
      expect(e.message).toContain('`nope`');
      expect(e.message).toContain('dev'); // lists the profiles that exist
    }],
    ['the profile option names a profile no file defines', {}, { profile: 'nope' }, (e) => expect(e).toBeInstanceOf(ProfileNotFoundError)],
    ['the profile has only half a key pair', { AWS_PROFILE: 'half-keys' }, {}, (e) => {
      expect(e).toBeInstanceOf(ProfileConfigError);
      expect(e.message).toContain('half-keys');
    }],
    ['STS refuses the role the profile assumes', { AWS_PROFILE: 'forbidden' }, {}, (e) => {
      expect(e).toBeInstanceOf(ProfileCredentialsError);
      expect((e as ProfileCredentialsError).code).toBe('AccessDenied');
    }],
    ['AWS_PROFILE names a profile that sets no credentials', { AWS_PROFILE: 'settings-only' }, {}, (e) => {
      expect(e).toBeInstanceOf(ProfileConfigError);
      expect(e.message).toContain('`settings-only`');
      expect(e.message).toContain('sets no credentials');
      expect(e.message).toContain(home.configPath);
    }],
    ['the profile option names a profile that sets no credentials', {}, { profile: 'settings-only' }, (e) => {
      expect(e).toBeInstanceOf(ProfileConfigError);
      expect(e.message).toContain('sets no credentials');
    }],
    ['credential_source = Environment finds no keys', { AWS_PROFILE: 'from-env' }, {}, (e) => {
      expect(e).toBeInstanceOf(ProfileCredentialsError);
      expect(e.message).toContain('from-env');
    }],
  ];
  for (const [title, env, options, check] of cases) {
    it(title, async () => {
      const { error } = await outcome(chainWith(env, options));
      expect(error).toBeDefined();
      expect(isNotFound(error)).toBe(false);
      check(error!);
      expect(imds.requests).toHaveLength(0);
      expect(container.requests).toHaveLength(0);
      expect(error!.message).not.toContain(USER.secretAccessKey);
    });
  }

  it('contrast: with no profile named and no default profile, the chain does move on to IMDS', async () => {
    const credentials = await chainWith({})();
    expect(credentials.accessKeyId).toMatch(/^ASIAIMDS/);
    expect(imds.count({ method: 'GET' })).toBeGreaterThan(0);
  });
});

describe('the later links, in order: token file, container, instance metadata', () => {
  it('token file before container before IMDS; each step down when the one above is not configured', async () => {
    const tokenFile = home.write('token.jwt', unsignedJwt({ sub: 'ci', iss: 'https://oidc.example.com', aud: 'sts.amazonaws.com' }));
    const webIdentity = { AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile, AWS_ROLE_ARN: ROLE, AWS_ROLE_SESSION_NAME: 'ci' };
    const containerEnv = { AWS_CONTAINER_CREDENTIALS_FULL_URI: container.url };

    const first = chainWith({ ...webIdentity, ...containerEnv });
    expect((await explain(first)).winner).toBe('token-file');
    expect(sts.counts.AssumeRoleWithWebIdentity).toBe(1);
    expect(container.requests).toHaveLength(0);

    const second = chainWith(containerEnv);
    const fromContainer = await second();
    expect(fromContainer.accessKeyId).toMatch(/^ASIACONT/);
    expect(imds.requests).toHaveLength(0);

    const third = chainWith({});
    expect((await third()).accessKeyId).toMatch(/^ASIAIMDS/);
  });

  it('AWS_EC2_METADATA_DISABLED ends the chain with NoCredentialsError listing every link, and no IMDS request', async () => {
    const { error } = await outcome(chainWith({ AWS_EC2_METADATA_DISABLED: 'true' }));
    expect(error).toBeInstanceOf(NoCredentialsError);
    expect((error as NoCredentialsError).attempts.map((a) => a.provider)).toEqual(['env', 'ini', 'token-file', 'container-metadata', 'instance-metadata']);
    expect(imds.requests).toHaveLength(0);
  });
});

describe('explain(defaultChain())', () => {
  it('names the winner and why each earlier link was skipped, with nothing secret', async () => {
    const chain = chainWith({});
    const credentials = await chain();
    const explanation = await explain(chain);
    expect(explanation.winner).toBe('instance-metadata');
    expect(explanation.tried.map((a) => [a.provider, a.outcome])).toEqual([
      ['env', 'skipped'],
      ['ini', 'skipped'],
      ['token-file', 'skipped'],
      ['container-metadata', 'skipped'],
      ['instance-metadata', 'resolved'],
    ]);
    const reasons = Object.fromEntries(explanation.tried.map((a) => [a.provider, a.reason ?? '']));
    expect(reasons.env).toContain('AWS_ACCESS_KEY_ID');
    expect(reasons.ini).toContain('default');
    expect(reasons['token-file']).toContain('AWS_WEB_IDENTITY_TOKEN_FILE');
    expect(reasons['container-metadata']).toContain('AWS_CONTAINER_CREDENTIALS');
    const text = String(explanation);
    expect(text).toContain('Credentials from instance-metadata');
    expect(text).toMatch(/access key \*+\w{4}/);
    expect(imds.credentialsServed).toBe(1); // explain reused the chain's cached resolution
    expect(text).not.toContain(credentials.secretAccessKey);
    expect(text).not.toContain(credentials.sessionToken!);
    expect(text).not.toContain(credentials.accessKeyId);
  });

  it('a named profile that fails shows FAILED for it, and no later link', async () => {
    const explanation = await explain(chainWith({ AWS_PROFILE: 'nope' }));
    expect(explanation.winner).toBeUndefined();
    expect(explanation.tried.map((a) => [a.provider, a.outcome])).toEqual([
      ['env', 'skipped'],
      ['ini', 'failed'],
    ]);
    expect(String(explanation)).toContain('FAILED   ini: Profile `nope` was not found');
  });
});

describe('per-link options', () => {
  it('the chain\'s instanceMetadata settings also serve a profile\'s credential_source = Ec2InstanceMetadata', async () => {
    const bootstrap = new StsClient({ endpoint: sts.url, region: REGION, credentials: { ...USER } });
    const session = (await bootstrap.getSessionToken({ durationSeconds: 3600 })).credentials;
    await imds.close();
    imds = await startImdsServer({
      credentials: { accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey, sessionToken: session.sessionToken! },
    });
    const config = home.write('.aws/config', `${FILES.config}\n[profile on-ec2]\nrole_arn = ${ROLE}\ncredential_source = Ec2InstanceMetadata\n`);
    expect(config).toBe(home.configPath);
    const credentials = await chainWith({}, { profile: 'on-ec2' })(); // instanceMetadata.endpoint given once, by chainWith
    const assumed = sts.issued.at(-1)!;
    expect(assumed.kind).toBe('assumed-role');
    expect(credentials).toMatchObject({ accessKeyId: assumed.accessKeyId, secretAccessKey: assumed.secretAccessKey, sessionToken: assumed.sessionToken });
    expect(imds.credentialsServed).toBe(1);
    expect(sts.requests.at(-1)).toMatchObject({ action: 'AssumeRole', accessKeyId: session.accessKeyId, signatureValid: true });
  });
});

describe('one resolution shared by every client', () => {
  it('defaultChain() passed to several SDK and credchain clients: one IMDS credentials fetch for all of them', async () => {
    // IMDS hands out a session the local STS issued, so the clients' calls verify.
    const bootstrap = new StsClient({ endpoint: sts.url, region: REGION, credentials: { ...USER } });
    const session = (await bootstrap.getSessionToken({ durationSeconds: 3600 })).credentials;
    await imds.close();
    imds = await startImdsServer({
      credentials: { accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey, sessionToken: session.sessionToken! },
    });
    sts.clearLog();

    const chain = chainWith({});
    const sdkClients = [1, 2, 3].map(() => new STSClient({ endpoint: sts.url, region: REGION, credentials: chain, maxAttempts: 1 }));
    const ours = [1, 2].map(() => new StsClient({ endpoint: sts.url, region: REGION, credentials: chain, env: {} }));
    const results = await Promise.all([
      ...sdkClients.flatMap((c) => [c.send(new GetCallerIdentityCommand({})), c.send(new GetCallerIdentityCommand({}))]),
      ...ours.flatMap((c) => [c.getCallerIdentity(), c.getCallerIdentity()]),
    ]);
    expect(results).toHaveLength(10);
    expect(sts.counts.GetCallerIdentity).toBe(10);
    expect(sts.requests.every((r) => r.signatureValid && r.accessKeyId === session.accessKeyId)).toBe(true);
    expect(imds.credentialsServed).toBe(1);
    expect(imds.count({ method: 'PUT' })).toBe(1);
  });

  it('a role profile: one AssumeRole for many concurrent callers and clients', async () => {
    const chain = chainWith({ AWS_PROFILE: 'deploy' });
    const clients = [1, 2, 3].map(() => new STSClient({ endpoint: sts.url, region: REGION, credentials: chain, maxAttempts: 1 }));
    const identities = await Promise.all([
      ...Array.from({ length: 20 }, () => chain()),
      ...clients.map((c) => c.send(new GetCallerIdentityCommand({}))),
    ]);
    expect(new Set(identities.slice(0, 20)).size).toBe(1);
    expect(sts.counts.AssumeRole).toBe(1);
    expect(sts.counts.GetCallerIdentity).toBe(3);
    expect(identities.slice(20).every((i) => (i as { Arn?: string }).Arn === `arn:aws:sts::${ACCOUNT}:assumed-role/deploy/${sts.requests[0]!.params.RoleSessionName}`)).toBe(true);
  });
});

describe('the region chain for STS calls', () => {
  it('with no region option, variable or profile region, the instance region from IMDS is the last link (once IMDS answered here)', async () => {
    await imds.close();
    imds = await startImdsServer({ region: 'eu-central-1' });
    await regionFromInstanceMetadata({ endpoint: imds.endpoint, env: {} }); // the evidence of EC2 (test/providers/metadata/region-lookup.test.ts)
    const chain = chainWith({ AWS_PROFILE: 'deploy' }, { region: undefined });
    await chain();
    expect(sts.requests.map((r) => [r.action, r.signingRegion])).toEqual([['AssumeRole', 'eu-central-1']]);
    expect(imds.requests.map((r) => r.path)).toContain('/latest/meta-data/placement/region');
  });

  it('an environment region wins and IMDS is not asked', async () => {
    const chain = chainWith({ AWS_PROFILE: 'deploy', AWS_REGION: 'ap-south-1' }, { region: undefined });
    await chain();
    expect(sts.requests.map((r) => r.signingRegion)).toEqual(['ap-south-1']);
    expect(imds.requests).toHaveLength(0);
  });
});
