import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startContainerServer, startImdsServer, startStsServer, type ContainerServer, type ImdsServer, type StsServer } from '../../src/testing/index.js';
import { accessKeyId, canary, canaryJwt, canarySamlAssertion } from './secrets-probe.js';

/**
 * The world the secrets test runs in: a local STS that knows canary IAM users, an IMDS and a
 * container endpoint serving canary credentials (the container one behind a canary authorization
 * token), credential_process helper scripts, token files and shared config files in a temp dir.
 */

export const ACCOUNT = '111122223333';
export const ROLE = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
export const MFA_SERIAL = `arn:aws:iam::${ACCOUNT}:mfa/alice`;
export const MFA_CODE = '123456';
export const PRINCIPAL = `arn:aws:iam::${ACCOUNT}:saml-provider/Okta`;
export const EXTERNAL_ID = 'ext-id-1';
/** Roles the local STS lets anyone assume; any other role is AccessDenied. */
export const ROLES = ['a', 'b', 'mfa', 'webid', 'saml', 'ext'];

export interface SecretsWorld {
  readonly dir: string;
  readonly sts: StsServer;
  readonly imds: ImdsServer;
  readonly container: ContainerServer;
  /** The long-term IAM user STS knows. */
  readonly user: { accessKeyId: string; secretAccessKey: string };
  /** A second long-term user, for the shared config's static profile (with a canary session token). */
  readonly profileKeys: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
  readonly envKeys: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
  readonly imdsCreds: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
  readonly containerCreds: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
  readonly containerToken: string;
  readonly processCreds: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
  readonly webIdentityToken: string;
  readonly tokenFile: string;
  readonly containerTokenFile: string;
  readonly samlAssertion: string;
  /** A secret passed as a credential_process argument (arguments may hold secrets). */
  readonly processArgSecret: string;
  /** `node <script>`: a credential_process command line; `mode` picks the behaviour (see helper). */
  processCommand(mode: ProcessMode): string;
  readonly configFile: string;
  readonly credentialsFile: string;
  readonly brokenConfigFile: string;
  /** Every secret this world made, plus every secret the local STS issued so far. */
  secrets(): string[];
  close(): Promise<void>;
}

export type ProcessMode = 'ok' | 'exit-after-stdout' | 'bad-json' | 'version-2' | 'expired' | 'no-secret' | 'huge' | 'hang' | 'killed';

const PROCESS_HELPER = `
const [mode, keyId, secret, token] = process.argv.slice(2);
const doc = { Version: 1, AccessKeyId: keyId, SecretAccessKey: secret, SessionToken: token, Expiration: new Date(Date.now() + 3600e3).toISOString() };
const out = (o) => process.stdout.write(typeof o === 'string' ? o : JSON.stringify(o));
switch (mode) {
  case 'ok': out(doc); break;
  case 'exit-after-stdout': out(doc); process.stderr.write('helper: session refused\\n'); process.exitCode = 3; break;
  case 'bad-json': out(JSON.stringify(doc).slice(0, -3)); break;
  case 'version-2': out({ ...doc, Version: 2 }); break;
  case 'expired': out({ ...doc, Expiration: '2001-01-01T00:00:00Z' }); break;
  case 'no-secret': out({ ...doc, SecretAccessKey: undefined, Extra: secret }); break;
  case 'huge': out(JSON.stringify(doc).repeat(200)); break;
  case 'hang': out(doc); setInterval(() => {}, 1000); break;
  case 'killed': out(doc); process.kill(process.pid, 'SIGKILL'); break;
}
`;

export async function startSecretsWorld(): Promise<SecretsWorld> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'credchain-secrets-'));
  const keys = (n: number, prefix: 'AKIA' | 'ASIA') => ({ accessKeyId: accessKeyId(prefix, n), secretAccessKey: canary('SECRETKEY'), sessionToken: canary('SESSIONTOKEN') });
  const user = { accessKeyId: accessKeyId('AKIA', 1), secretAccessKey: canary('SECRETKEY') };
  const profileKeys = keys(2, 'AKIA');
  const envKeys = keys(3, 'ASIA');
  const imdsCreds = keys(4, 'ASIA');
  const containerCreds = keys(5, 'ASIA');
  const processCreds = keys(6, 'ASIA');
  const containerToken = canary('CONTAINERAUTH');
  const webIdentityToken = canaryJwt();
  const samlAssertion = canarySamlAssertion();
  const processArgSecret = canary('SECRETKEY');

  const sts = await startStsServer({
    users: { [user.accessKeyId]: user.secretAccessKey },
    account: ACCOUNT,
    roles: Object.fromEntries(ROLES.map((r) => [ROLE(r), r === 'ext' ? { externalId: EXTERNAL_ID } : {}])),
    mfaTokenCodes: { [MFA_SERIAL]: MFA_CODE },
  });
  const imds = await startImdsServer({ credentials: imdsCreds, roleName: 'instance-role' });
  const container = await startContainerServer({ credentials: containerCreds, authorizationToken: containerToken });

  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  const helper = write('process-helper.cjs', PROCESS_HELPER);
  const tokenFile = write('web-identity-token', `${webIdentityToken}\n`);
  const containerTokenFile = write('container-token', containerToken);
  const processCommand = (mode: ProcessMode) =>
    `${process.execPath} ${helper} ${mode} ${processCreds.accessKeyId} ${processCreds.secretAccessKey} ${processCreds.sessionToken} --api-key ${processArgSecret}`;

  const credentialsFile = write(
    'credentials',
    [
      '[static]',
      `aws_access_key_id = ${profileKeys.accessKeyId}`,
      `aws_secret_access_key = ${profileKeys.secretAccessKey}`,
      `aws_session_token = ${profileKeys.sessionToken}`,
      '[user]',
      `aws_access_key_id = ${user.accessKeyId}`,
      `aws_secret_access_key = ${user.secretAccessKey}`,
      '[partial]',
      `aws_secret_access_key = ${canary('SECRETKEY')}`,
      '',
    ].join('\n'),
  );
  const configFile = write(
    'config',
    [
      '[profile role]',
      `role_arn = ${ROLE('a')}`,
      'source_profile = user',
      '[profile chained]',
      `role_arn = ${ROLE('b')}`,
      'source_profile = role',
      '[profile mfa]',
      `role_arn = ${ROLE('mfa')}`,
      'source_profile = user',
      `mfa_serial = ${MFA_SERIAL}`,
      '[profile denied]',
      `role_arn = ${ROLE('not-allowed')}`,
      'source_profile = user',
      '[profile proc]',
      `credential_process = ${processCommand('ok')}`,
      '[profile badproc]',
      `credential_process = ${processCommand('exit-after-stdout')}`,
      '[profile webid]',
      `role_arn = ${ROLE('webid')}`,
      `web_identity_token_file = ${tokenFile}`,
      '[profile webid-missing]',
      `role_arn = ${ROLE('webid')}`,
      `web_identity_token_file = ${path.join(dir, 'no-such-token-file')}`,
      '[profile container]',
      `role_arn = ${ROLE('a')}`,
      'credential_source = EcsContainer',
      '',
    ].join('\n'),
  );
  const brokenConfigFile = write('config-broken', `[profile x]\naws_secret_access_key ${canary('SECRETKEY')}\n`);
  chmodSync(helper, 0o644);

  const mine = [user, profileKeys, envKeys, imdsCreds, containerCreds, processCreds].flatMap((k) => Object.values(k).filter((v) => !v.startsWith('A')));
  return {
    dir,
    sts,
    imds,
    container,
    user,
    profileKeys,
    envKeys,
    imdsCreds,
    containerCreds,
    containerToken,
    processCreds,
    webIdentityToken,
    tokenFile,
    containerTokenFile,
    samlAssertion,
    processArgSecret,
    processCommand,
    configFile,
    credentialsFile,
    brokenConfigFile,
    secrets: () => [
      ...mine,
      containerToken,
      webIdentityToken,
      samlAssertion,
      processArgSecret,
      ...sts.issued.flatMap((c) => [c.secretAccessKey, c.sessionToken]),
    ],
    close: async () => {
      await Promise.all([sts.close(), imds.close(), container.close()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
