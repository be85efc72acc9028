import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CredentialsError, isNotFound } from '../../../src/errors.js';
import { fromIni, type FromIniOptions } from '../../../src/providers/profile/ini.js';
import { ProfileCredentialsError } from '../../../src/providers/profile/errors.js';
import { StsClient } from '../../../src/sts/client.js';
import { startContainerServer } from '../../../src/testing/container-server.js';
import { startImdsServer } from '../../../src/testing/imds-server.js';
import { startStsServer, type StsServer } from '../../../src/testing/sts-server.js';

/** fromIni role chains, web identity and credential sources against the local STS over real HTTP. */

const BASE_KEY = 'AKIAINIBASE000000001';
const BASE_SECRET = 'iniBaseSecret/0123456789abcdefghijklmnopq';
const ROLE_A = 'arn:aws:iam::123456789012:role/a';
const ROLE_B = 'arn:aws:iam::210987654321:role/b';
const MFA = 'arn:aws:iam::123456789012:mfa/alice';
const T0 = Date.parse('2031-03-01T12:00:00Z');

let root: string;
let dir: string;
let n = 0;
let sts: StsServer;
let t = T0;
const clock = () => t;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'credchain-ini-sts-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});
beforeEach(async () => {
  dir = path.join(root, `case-${++n}`);
  await mkdir(dir);
  t = T0;
  sts = await startStsServer({ users: { [BASE_KEY]: BASE_SECRET }, now: clock, mfaTokenCodes: { [MFA]: '123456' } });
});
afterEach(async () => {
  await sts.close();
});

const configPath = () => path.join(dir, 'config');
const credentialsPath = () => path.join(dir, 'credentials');
const BASE = `[base]\naws_access_key_id = ${BASE_KEY}\naws_secret_access_key = ${BASE_SECRET}\n`;

let bump = 0;
async function writeConfig(config: string, credentials = BASE) {
  await writeFile(configPath(), config);
  await writeFile(credentialsPath(), credentials);
  // A distinct mtime for every write, so the mtime cache sees each edit even on coarse clocks.
  const stamp = new Date(Date.now() + ++bump * 10_000);
  await utimes(configPath(), stamp, stamp);
}

function ini(options: FromIniOptions = {}) {
  return fromIni({
    configFile: configPath(),
    credentialsFile: credentialsPath(),
    env: { HOME: dir },
    now: clock,
    sts: { endpoint: sts.url, baseDelay: 1 },
    ...options,
  });
}

const assumeRoles = () => sts.requests.filter((r) => r.action === 'AssumeRole');

/** The error a call fails with; fails the test if it resolves. */
async function failure(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  if (outcome === undefined) throw new Error('expected the call to fail');
  return outcome;
}

function expectSecretFree(e: Error, secrets: string[]) {
  for (const text of [e.message, JSON.stringify(e), inspect(e)]) for (const s of secrets) expect(text).not.toContain(s);
}

describe('fromIni: role_arn + source_profile', () => {
  it('assumes the role with the source keys and passes every profile parameter', async () => {
    await writeConfig(
      `[profile dev]\nrole_arn = ${ROLE_A}\nsource_profile = base\nrole_session_name = alice-dev\nexternal_id = ext-123\nduration_seconds = 1800\n`,
    );
    const creds = await ini({ profile: 'dev' })();
    expect(creds.accessKeyId).toBe(sts.issued[0]!.accessKeyId);
    expect(creds.sessionToken).toBe(sts.issued[0]!.sessionToken);
    expect(creds.expiration!.getTime()).toBe(T0 + 1800_000);
    const [request] = assumeRoles();
    expect(request!.params).toMatchObject({ RoleArn: ROLE_A, RoleSessionName: 'alice-dev', ExternalId: 'ext-123', DurationSeconds: '1800' });
    expect(String(request!.headers.authorization)).toContain(`Credential=${BASE_KEY}/`);
  });

  it('chains roles to any depth, each hop signed with the previous one, and caches until renewal', async () => {
    await writeConfig(
      `[profile top]\nrole_arn = ${ROLE_B}\nsource_profile = middle\n[profile middle]\nrole_arn = ${ROLE_A}\nsource_profile = base\n`,
    );
    const provider = ini({ profile: 'top' });
    const creds = await provider();
    const calls = assumeRoles();
    expect(calls.map((r) => r.params.RoleArn)).toEqual([ROLE_A, ROLE_B]);
    expect(String(calls[1]!.headers.authorization)).toContain(`Credential=${sts.issued[0]!.accessKeyId}/`);
    expect(creds.accessKeyId).toBe(sts.issued[1]!.accessKeyId);
    for (let i = 0; i < 5; i++) expect((await provider()).accessKeyId).toBe(creds.accessKeyId);
    expect(assumeRoles()).toHaveLength(2);
  });

  it("signs for the selected profile's region; AWS_REGION wins over it (botocore session region)", async () => {
    await writeConfig(`[profile dev]\nregion = eu-west-3\nrole_arn = ${ROLE_A}\nsource_profile = base\n[profile base]\nregion = ap-south-1\n`);
    await ini({ profile: 'dev' })();
    expect(String(assumeRoles()[0]!.headers.authorization)).toContain('/eu-west-3/sts/aws4_request');
    await ini({ profile: 'dev', env: { HOME: dir, AWS_REGION: 'ca-central-1' }, sts: { endpoint: sts.url } })();
    expect(String(assumeRoles()[1]!.headers.authorization)).toContain('/ca-central-1/sts/aws4_request');
  });

  it("uses the profile's endpoint_url for STS when no endpoint option is given", async () => {
    await writeConfig(`[profile dev]\nrole_arn = ${ROLE_A}\nsource_profile = base\nendpoint_url = ${sts.url}\n`);
    const creds = await ini({ profile: 'dev', sts: {} })();
    expect(creds.accessKeyId).toBe(sts.issued[0]!.accessKeyId);
  });

  it('an STS refusal is a real error naming the profile, its file, the role and the STS code, no secret', async () => {
    await writeConfig(`[profile dev]\nrole_arn = ${ROLE_A}\nsource_profile = base\n`);
    sts.inject({ kind: 'error', status: 403, code: 'AccessDenied', message: 'not authorized to perform sts:AssumeRole' });
    const error = await failure(ini({ profile: 'dev' })());
    expect(error).toBeInstanceOf(ProfileCredentialsError);
    expect(isNotFound(error)).toBe(false);
    expect((error as ProfileCredentialsError).code).toBe('AccessDenied');
    expect(error.message).toContain('`dev`');
    expect(error.message).toContain(configPath());
    expect(error.message).toContain(ROLE_A);
    expectSecretFree(error, [BASE_SECRET]);
  });
});

describe('fromIni: MFA', () => {
  it('asks tokenCode once per renewal and sends the serial and the code', async () => {
    await writeConfig(`[profile admin]\nrole_arn = ${ROLE_A}\nsource_profile = base\nmfa_serial = ${MFA}\nduration_seconds = 900\n`);
    const asked: string[] = [];
    const provider = ini({ profile: 'admin', tokenCode: async (serial) => (asked.push(serial), '123456') });
    const first = await provider();
    await provider();
    await provider();
    expect(asked).toEqual([MFA]);
    expect(assumeRoles()[0]!.params).toMatchObject({ SerialNumber: MFA, TokenCode: '123456' });

    t = T0 + 14 * 60_000; // inside the mandatory window of a 15-minute session
    const second = await provider();
    expect(second.accessKeyId).not.toBe(first.accessKeyId);
    expect(asked).toEqual([MFA, MFA]);
    expect(assumeRoles()).toHaveLength(2);
  });

  it('a wrong code is the STS error, with the profile named', async () => {
    await writeConfig(`[profile admin]\nrole_arn = ${ROLE_A}\nsource_profile = base\nmfa_serial = ${MFA}\n`);
    const error = await failure(ini({ profile: 'admin', tokenCode: () => '000000' })());
    expect(error).toBeInstanceOf(ProfileCredentialsError);
    expect(error.message).toContain('`admin`');
    expect(assumeRoles()).toHaveLength(1);
  });
});

describe('fromIni: credential_source', () => {
  it('Environment: the env keys sign the AssumeRole', async () => {
    await writeConfig(`[profile ci]\nrole_arn = ${ROLE_A}\ncredential_source = Environment\n`, '');
    const env = { HOME: dir, AWS_ACCESS_KEY_ID: BASE_KEY, AWS_SECRET_ACCESS_KEY: BASE_SECRET };
    const creds = await ini({ profile: 'ci', env })();
    expect(creds.accessKeyId).toBe(sts.issued[0]!.accessKeyId);
    expect(String(assumeRoles()[0]!.headers.authorization)).toContain(`Credential=${BASE_KEY}/`);
  });

  it('Environment with no keys set: a real error naming the profile, not a silent fall-through', async () => {
    await writeConfig(`[profile ci]\nrole_arn = ${ROLE_A}\ncredential_source = Environment\n`, '');
    const error = await failure(ini({ profile: 'ci' })());
    expect(error).toBeInstanceOf(ProfileCredentialsError);
    expect(isNotFound(error)).toBe(false);
    expect(error.message).toContain('`ci`');
    expect(error.message).toContain('credential_source = Environment');
    expect(error.message).toContain('AWS_ACCESS_KEY_ID');
    expect(sts.requests).toHaveLength(0);
  });

  it("Ec2InstanceMetadata: reads the profile's ec2_metadata_service_endpoint and signs with the instance role", async () => {
    // The instance role's credentials: temporary ones the local STS issued, so it accepts their signature.
    const session = await new StsClient({ endpoint: sts.url, credentials: { accessKeyId: BASE_KEY, secretAccessKey: BASE_SECRET }, now: clock }).getSessionToken();
    const instance = {
      accessKeyId: session.credentials.accessKeyId,
      secretAccessKey: session.credentials.secretAccessKey,
      sessionToken: session.credentials.sessionToken!,
    };
    const imds = await startImdsServer({ credentials: instance, now: clock });
    try {
      await writeConfig(`[profile ec2]\nrole_arn = ${ROLE_A}\ncredential_source = Ec2InstanceMetadata\nec2_metadata_service_endpoint = ${imds.endpoint}\n`, '');
      const creds = await ini({ profile: 'ec2' })();
      expect(creds.accessKeyId).toBe(sts.issued[1]!.accessKeyId);
      expect(String(assumeRoles()[0]!.headers.authorization)).toContain(`Credential=${instance.accessKeyId}/`);
      expect(imds.credentialsServed).toBe(1);
    } finally {
      await imds.close();
    }
  });
});

describe('fromIni: credential_source = EcsContainer', () => {
  it('gets the source credentials from the container endpoint (full URI + token) and assumes the role with them', async () => {
    const session = await new StsClient({ endpoint: sts.url, credentials: { accessKeyId: BASE_KEY, secretAccessKey: BASE_SECRET }, now: clock }).getSessionToken();
    const task = { accessKeyId: session.credentials.accessKeyId, secretAccessKey: session.credentials.secretAccessKey, sessionToken: session.credentials.sessionToken! };
    const container = await startContainerServer({ credentials: task, authorizationToken: 'task-token', now: clock });
    try {
      await writeConfig(`[profile ecs]\nrole_arn = ${ROLE_A}\ncredential_source = EcsContainer\n`, '');
      const env = { HOME: dir, AWS_CONTAINER_CREDENTIALS_FULL_URI: container.url, AWS_CONTAINER_AUTHORIZATION_TOKEN: 'task-token' };
      const creds = await ini({ profile: 'ecs', env })();
      expect(creds.accessKeyId).toBe(sts.issued[1]!.accessKeyId);
      expect(String(assumeRoles()[0]!.headers.authorization)).toContain(`Credential=${task.accessKeyId}/`);
      expect(container.authorizedRequests).toBe(1);
    } finally {
      await container.close();
    }
  });

  it('without a container endpoint configured: a real error naming the profile, no fall-through', async () => {
    await writeConfig(`[profile ecs]\nrole_arn = ${ROLE_A}\ncredential_source = EcsContainer\n`, '');
    const error = await failure(ini({ profile: 'ecs' })());
    expect(isNotFound(error)).toBe(false);
    expect(error.message).toContain('`ecs`');
    expect(assumeRoles()).toHaveLength(0);
  });
});

describe('fromIni: environment changes between calls', () => {
  it('AWS_REGION, AWS_ENDPOINT_URL_STS and AWS_ENDPOINT_URL are seen at the next call, with no file changed', async () => {
    const other = await startStsServer({ users: { [BASE_KEY]: BASE_SECRET }, now: clock });
    try {
      await writeConfig(`[profile dev]\nrole_arn = ${ROLE_A}\nsource_profile = base\n`);
      const env: Record<string, string> = { HOME: dir, AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL_STS: sts.url };
      const provider = fromIni({ configFile: configPath(), credentialsFile: credentialsPath(), env, now: clock, sts: { baseDelay: 1 }, profile: 'dev' });
      await provider();
      expect(assumeRoles().map((r) => r.signingRegion)).toEqual(['eu-west-1']);
      env.AWS_REGION = 'ap-southeast-2';
      await provider();
      expect(assumeRoles().map((r) => r.signingRegion)).toEqual(['eu-west-1', 'ap-southeast-2']);
      delete env.AWS_ENDPOINT_URL_STS;
      env.AWS_ENDPOINT_URL = other.url;
      await provider();
      expect(other.requests.map((r) => [r.action, r.signingRegion])).toEqual([['AssumeRole', 'ap-southeast-2']]);
      // Unchanged environment: the session is kept.
      await provider();
      expect(other.requests).toHaveLength(1);
      expect(assumeRoles()).toHaveLength(2);
    } finally {
      await other.close();
    }
  });

  it('a source profile whose secret key alone changed is picked up (the session is assumed again with the new key)', async () => {
    await writeConfig(`[profile dev]\nrole_arn = ${ROLE_A}\nsource_profile = base\n`, `[base]\naws_access_key_id = ${BASE_KEY}\naws_secret_access_key = wrong-secret\n`);
    const provider = ini({ profile: 'dev' });
    expect(await failure(provider())).toBeInstanceOf(CredentialsError);
    await writeConfig(`[profile dev]\nrole_arn = ${ROLE_A}\nsource_profile = base\n`);
    expect((await provider()).accessKeyId).toBe(sts.issued[0]!.accessKeyId);
  });
});

describe('fromIni: web_identity_token_file', () => {
  const jwt = (sub: string) =>
    ['e30', Buffer.from(JSON.stringify({ sub, aud: 'sts.amazonaws.com', iss: 'https://oidc.example.com', exp: T0 / 1000 + 86_400 })).toString('base64url'), 'sig'].join('.');

  it('assumes the role with the token from the file, read again at each renewal', async () => {
    const tokenFile = path.join(dir, 'token.jwt');
    await writeFile(tokenFile, jwt('first'));
    await writeConfig(`[profile wi]\nrole_arn = ${ROLE_A}\nweb_identity_token_file = ${tokenFile}\nrole_session_name = wi-session\n`, '');
    const provider = ini({ profile: 'wi', env: { HOME: dir, AWS_ROLE_SESSION_NAME: 'from-env-must-not-be-used' } });
    await provider();
    const calls = () => sts.requests.filter((r) => r.action === 'AssumeRoleWithWebIdentity');
    expect(calls()[0]!.params).toMatchObject({ RoleArn: ROLE_A, RoleSessionName: 'wi-session', WebIdentityToken: jwt('first') });
    await writeFile(tokenFile, jwt('second'));
    t = T0 + 55 * 60_000; // inside the mandatory window of the default one-hour session
    await provider();
    expect(calls()).toHaveLength(2);
    expect(calls()[1]!.params.WebIdentityToken).toBe(jwt('second'));
  });

  it('a missing token file is a real error naming the profile and the path', async () => {
    const tokenFile = path.join(dir, 'missing.jwt');
    await writeConfig(`[profile wi]\nrole_arn = ${ROLE_A}\nweb_identity_token_file = ${tokenFile}\n`, '');
    const error = await failure(ini({ profile: 'wi' })());
    expect(error).toBeInstanceOf(CredentialsError);
    expect(isNotFound(error)).toBe(false);
    expect(error.message).toContain('`wi`');
    expect(error.message).toContain(tokenFile);
  });
});

describe('fromIni: edits between calls', () => {
  it('an edit to the profile re-plans at the next call; an unrelated edit keeps the STS session', async () => {
    await writeConfig(`[profile dev]\nrole_arn = ${ROLE_A}\nsource_profile = base\n[profile other]\nregion = us-east-1\n`);
    const provider = ini({ profile: 'dev' });
    const first = await provider();
    await writeConfig(`[profile dev]\nrole_arn = ${ROLE_A}\nsource_profile = base\n[profile other]\nregion = eu-west-1\n`);
    expect((await provider()).accessKeyId).toBe(first.accessKeyId);
    expect(assumeRoles()).toHaveLength(1);
    await writeConfig(`[profile dev]\nrole_arn = ${ROLE_B}\nsource_profile = base\n`);
    const second = await provider();
    expect(second.accessKeyId).not.toBe(first.accessKeyId);
    expect(assumeRoles().map((r) => r.params.RoleArn)).toEqual([ROLE_A, ROLE_B]);
  });

  it('invalidate() drops the cached session: the next call assumes the role again', async () => {
    await writeConfig(`[profile dev]\nrole_arn = ${ROLE_A}\nsource_profile = base\n`);
    const provider = ini({ profile: 'dev' });
    await provider();
    provider.invalidate();
    await provider();
    expect(assumeRoles()).toHaveLength(2);
  });
});
