import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { GetObjectCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CredentialProvider, Credentials } from '../src/credentials.js';
import { defaultChain } from '../src/default-chain.js';
import { httpRequest } from '../src/http/request.js';
import { fromAssumeRole } from '../src/providers/sts/assume-role.js';
import { fromContainerMetadata } from '../src/providers/metadata/container.js';
import { fromEnv } from '../src/providers/env.js';
import { fromFederationToken } from '../src/providers/sts/federation-token.js';
import { fromIni } from '../src/providers/profile/ini.js';
import { fromInstanceMetadata } from '../src/providers/metadata/instance.js';
import { fromProcess } from '../src/providers/process/process.js';
import { fromSaml } from '../src/providers/sts/saml.js';
import { fromSessionToken } from '../src/providers/sts/session-token.js';
import { fromStatic } from '../src/providers/static.js';
import { fromTokenFile } from '../src/providers/sts/token-file.js';
import { fromWebIdentity } from '../src/providers/sts/web-identity.js';
import { clearStsSessionCache } from '../src/providers/sts/session-cache.js';
import { refreshing } from '../src/refreshing.js';
import { StsClient } from '../src/sts/client.js';
import { startContainerServer, type ContainerServer } from '../src/testing/container-server.js';
import { startImdsServer, type ImdsServer } from '../src/testing/imds-server.js';
import { startStsServer, STS_SERVER_DEFAULT_USER as USER, type StsServer } from '../src/testing/sts-server.js';
import { makeAwsHome, unsignedJwt, type AwsHome } from './helpers/aws-home.js';
import { startS3Server, type S3Server } from './helpers/s3-server.js';

/**
 * Our providers as the `credentials` of real AWS SDK clients (`@aws-sdk/client-sts`,
 * `@aws-sdk/client-s3`) and of `@smithy/signature-v4` used directly, against local servers that
 * verify every SigV4 signature with their own code (service `sts` and `s3`). A provider passes
 * when the SDK's signed request verifies with the secret the server holds for the key it resolved.
 */

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/integration`;
const OBJECTS = { 'credchain-bucket': { 'hello.txt': 'hello from the local S3' } };

let sts: StsServer;
let s3: S3Server;
let imds: ImdsServer;
let container: ContainerServer;
let home: AwsHome;
let tokenFile: string;

beforeAll(async () => {
  sts = await startStsServer({ account: ACCOUNT });
  // The S3 accepts what the local STS accepts: its users and the sessions it issued.
  s3 = await startS3Server({
    objects: OBJECTS,
    credentialsFor: (accessKeyId) => {
      if (accessKeyId === USER.accessKeyId) return { secretAccessKey: USER.secretAccessKey };
      const issued = sts.issued.find((c) => c.accessKeyId === accessKeyId);
      return issued ? { secretAccessKey: issued.secretAccessKey, sessionToken: issued.sessionToken } : undefined;
    },
  });
  // IMDS and the container endpoint hand out sessions the local STS issued, so STS and S3 accept them.
  const bootstrap = new StsClient({ endpoint: sts.url, region: REGION, credentials: { ...USER }, env: {} });
  const session = async () => {
    const c = (await bootstrap.getSessionToken({ durationSeconds: 3600 })).credentials;
    return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken! };
  };
  imds = await startImdsServer({ credentials: await session() });
  container = await startContainerServer({ credentials: await session() });
  home = makeAwsHome({
    credentials: `[user]\naws_access_key_id = ${USER.accessKeyId}\naws_secret_access_key = ${USER.secretAccessKey}\n`,
    config: `[profile role]\nrole_arn = ${ROLE}\nsource_profile = user\nregion = ${REGION}\n`,
  });
  tokenFile = home.write('token.jwt', unsignedJwt({ sub: 'ci', iss: 'https://oidc.example.com', aud: 'sts.amazonaws.com' }));
});
afterAll(async () => {
  clearStsSessionCache();
  await Promise.all([sts.close(), s3.close(), imds.close(), container.close()]);
  home.remove();
});

const stsOptions = () => ({ endpoint: sts.url, region: REGION, env: {}, maxRetries: 0 });
const user = () => fromStatic({ accessKeyId: USER.accessKeyId, secretAccessKey: USER.secretAccessKey });
const files = () => ({ configFile: home.configPath, credentialsFile: home.credentialsPath });
const samlAssertion = () =>
  Buffer.from(`<samlp:Response><Assertion><Subject>ci</Subject><Conditions NotOnOrAfter="${new Date(Date.now() + 3_600_000).toISOString()}"/></Assertion></samlp:Response>`).toString('base64');

/** Every provider, built fresh per use (so each one's first resolution happens inside the SDK client). */
const PROVIDERS: Record<string, () => CredentialProvider> = {
  fromStatic: user,
  fromEnv: () => fromEnv({ env: { AWS_ACCESS_KEY_ID: USER.accessKeyId, AWS_SECRET_ACCESS_KEY: USER.secretAccessKey } }),
  'fromIni (static keys)': () => fromIni({ ...files(), profile: 'user', env: {} }),
  'fromIni (role profile)': () => fromIni({ ...files(), profile: 'role', env: {}, sts: { endpoint: sts.url, maxRetries: 0 } }),
  fromAssumeRole: () => fromAssumeRole({ roleArn: ROLE, source: user(), sts: stsOptions(), region: REGION, sessionCache: false }),
  fromWebIdentity: () =>
    fromWebIdentity({ roleArn: ROLE, webIdentityToken: unsignedJwt({ sub: 'app', iss: 'https://oidc.example.com' }), sts: stsOptions(), region: REGION, sessionCache: false }),
  fromTokenFile: () => fromTokenFile({ webIdentityTokenFile: tokenFile, roleArn: ROLE, env: {}, sts: stsOptions(), region: REGION, sessionCache: false }),
  fromSaml: () =>
    fromSaml({ roleArn: ROLE, principalArn: `arn:aws:iam::${ACCOUNT}:saml-provider/idp`, samlAssertion, sts: stsOptions(), region: REGION, sessionCache: false }),
  fromSessionToken: () => fromSessionToken({ source: user(), sts: stsOptions(), region: REGION, sessionCache: false }),
  fromFederationToken: () => fromFederationToken({ source: user(), name: 'integration', sts: stsOptions(), region: REGION, sessionCache: false }),
  fromInstanceMetadata: () => fromInstanceMetadata({ endpoint: imds.endpoint, env: {} }),
  fromContainerMetadata: () => fromContainerMetadata({ env: { AWS_CONTAINER_CREDENTIALS_FULL_URI: container.url } }),
  fromProcess: () =>
    fromProcess({
      command: `${process.execPath} -e console.log(JSON.stringify({Version:1,AccessKeyId:process.env.K,SecretAccessKey:process.env.S}))`,
      env: { K: USER.accessKeyId, S: USER.secretAccessKey, PATH: process.env.PATH },
    }),
  refreshing: () => refreshing(user()),
  'defaultChain (environment)': () =>
    defaultChain({ env: { HOME: home.home, AWS_ACCESS_KEY_ID: USER.accessKeyId, AWS_SECRET_ACCESS_KEY: USER.secretAccessKey } }),
  'defaultChain (role profile)': () =>
    defaultChain({ env: { HOME: home.home }, profile: 'role', ...files(), sts: { endpoint: sts.url, maxRetries: 0 } }),
  'defaultChain (instance metadata)': () =>
    defaultChain({ env: { HOME: home.home }, instanceMetadata: { endpoint: imds.endpoint } }),
};

/** The provider, recording what it handed out (to check the server saw exactly that key). */
function recorded(make: () => CredentialProvider): { provider: CredentialProvider; last: () => Credentials } {
  const inner = make();
  let last: Credentials | undefined;
  return {
    provider: async () => (last = await inner()),
    last: () => {
      if (!last) throw new Error('the SDK never called the provider');
      return last;
    },
  };
}

describe.each(Object.keys(PROVIDERS))('%s as the credentials of real SDK clients', (name) => {
  it('@aws-sdk/client-sts GetCallerIdentity: the signed request verifies at the local STS', async () => {
    const { provider, last } = recorded(PROVIDERS[name]!);
    const client = new STSClient({ endpoint: sts.url, region: REGION, credentials: provider, maxAttempts: 1 });
    const before = sts.requests.length;
    const identity = await client.send(new GetCallerIdentityCommand({}));
    expect(identity.Account).toBe(ACCOUNT);
    const call = sts.requests.slice(before).filter((r) => r.action === 'GetCallerIdentity');
    expect(call).toHaveLength(1);
    expect(call[0]).toMatchObject({ signed: true, signatureValid: true, accessKeyId: last().accessKeyId, signingRegion: REGION });
    expect(call[0]!.headers['x-amz-security-token']).toBe(last().sessionToken);
    client.destroy();
  });

  it('@aws-sdk/client-s3 ListBuckets and GetObject (path style): signatures for service s3 verify', async () => {
    const { provider, last } = recorded(PROVIDERS[name]!);
    const client = new S3Client({ endpoint: s3.url, region: REGION, forcePathStyle: true, credentials: provider, maxAttempts: 1 });
    const before = s3.requests.length;
    const list = await client.send(new ListBucketsCommand({}));
    expect(list.Buckets?.map((b) => b.Name)).toEqual(['credchain-bucket']);
    const object = await client.send(new GetObjectCommand({ Bucket: 'credchain-bucket', Key: 'hello.txt' }));
    expect(await object.Body!.transformToString()).toBe('hello from the local S3');
    const seen = s3.requests.slice(before);
    expect(seen.map((r) => [r.method, r.path, r.signatureValid, r.signingService, r.accessKeyId])).toEqual([
      ['GET', '/', true, 's3', last().accessKeyId],
      ['GET', '/credchain-bucket/hello.txt', true, 's3', last().accessKeyId],
    ]);
    client.destroy();
  });
});

type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytes = (data: SourceData) =>
  typeof data === 'string' ? data : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);

/** `@smithy/signature-v4` wants a hash constructor; a small one over node:crypto, separate from src/. */
class TestSha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.hash.digest();
  }
  reset(): void {
    throw new Error('not needed by the signer');
  }
}

/** Signs `request` with SignatureV4 and the provider, sends it over loopback, returns status and body. */
async function signAndSend(provider: CredentialProvider, service: 'sts' | 's3', url: string, request: { method: string; path: string; body?: string; headers?: Record<string, string> }) {
  const target = new URL(url);
  const signer = new SignatureV4({ credentials: provider, region: REGION, service, sha256: TestSha256, uriEscapePath: service !== 's3' });
  const signed = await signer.sign({
    method: request.method,
    protocol: target.protocol,
    hostname: target.hostname,
    port: Number(target.port),
    path: request.path,
    query: {},
    headers: { host: target.host, ...request.headers, ...(service === 's3' ? { 'x-amz-content-sha256': createHash('sha256').update(request.body ?? '').digest('hex') } : {}) },
    ...(request.body !== undefined ? { body: request.body } : {}),
  });
  const headers = Object.fromEntries(Object.entries(signed.headers).filter(([k]) => k !== 'host'));
  return httpRequest({ url: `${url}${request.path}`, method: request.method, headers, ...(request.body !== undefined ? { body: request.body } : {}), timeoutMs: 5000 });
}

describe('@smithy/signature-v4 used directly with our providers', () => {
  const GET_CALLER_IDENTITY = { method: 'POST', path: '/', body: 'Action=GetCallerIdentity&Version=2011-06-15', headers: { 'content-type': 'application/x-www-form-urlencoded' } };

  for (const name of ['fromStatic', 'fromAssumeRole', 'fromInstanceMetadata', 'defaultChain (role profile)']) {
    it(`${name}: a request signed for sts and one for s3 both verify independently`, async () => {
      const provider = PROVIDERS[name]!();
      const stsAnswer = await signAndSend(provider, 'sts', sts.url, GET_CALLER_IDENTITY);
      expect(stsAnswer.status).toBe(200);
      expect(sts.requests.at(-1)).toMatchObject({ action: 'GetCallerIdentity', signatureValid: true, accessKeyId: (await provider()).accessKeyId });
      const s3Answer = await signAndSend(provider, 's3', s3.url, { method: 'GET', path: '/credchain-bucket/hello.txt' });
      expect(s3Answer.status).toBe(200);
      expect(String(s3Answer.body)).toBe('hello from the local S3');
    });
  }

  it('negative control: a wrong secret is rejected by both servers, so the passes above are real', async () => {
    const wrong = fromStatic({ accessKeyId: USER.accessKeyId, secretAccessKey: `${USER.secretAccessKey}x` });
    expect((await signAndSend(wrong, 'sts', sts.url, GET_CALLER_IDENTITY)).status).toBe(403);
    expect(sts.requests.at(-1)).toMatchObject({ signatureValid: false, errorCode: 'SignatureDoesNotMatch' });
    expect((await signAndSend(wrong, 's3', s3.url, { method: 'GET', path: '/' })).status).toBe(403);
    expect(s3.requests.at(-1)).toMatchObject({ signatureValid: false, errorCode: 'SignatureDoesNotMatch' });
    // And with the SDK clients: the error surfaces, nothing is silently accepted.
    const stsError = await new STSClient({ endpoint: sts.url, region: REGION, credentials: wrong, maxAttempts: 1 })
      .send(new GetCallerIdentityCommand({}))
      .catch((e: Error) => e);
    expect(stsError).toMatchObject({ name: 'SignatureDoesNotMatch' });
    const s3Error = await new S3Client({ endpoint: s3.url, region: REGION, forcePathStyle: true, credentials: wrong, maxAttempts: 1 })
      .send(new ListBucketsCommand({}))
      .catch((e: Error) => e);
    expect(s3Error).toMatchObject({ name: 'SignatureDoesNotMatch' });
  });

  it('a signature for the wrong service is rejected (the S3 server checks the scope names s3)', async () => {
    const answer = await signAndSend(user(), 'sts', s3.url, { method: 'GET', path: '/' });
    expect(answer.status).toBe(403);
    expect(s3.requests.at(-1)).toMatchObject({ signingService: 'sts', signatureValid: false });
  });
});
