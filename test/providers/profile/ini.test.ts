import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigFileError, ConfigParseError, ProfileConfigError, ProfileCycleError, ProfileNotFoundError } from '../../../src/config/errors.js';
import { clearSharedConfigCache, sharedConfigCacheStats } from '../../../src/config/files.js';
import { CredentialsError, CredentialsNotFound, isNotFound } from '../../../src/errors.js';
import { providerNameOf } from '../../../src/provider.js';
import { fromIni, type FromIniOptions } from '../../../src/providers/profile/ini.js';
import { ProfileCredentialsError } from '../../../src/providers/profile/errors.js';
import { SsoTokenError } from '../../../src/providers/sso/sso.js';
import { startStsServer } from '../../../src/testing/sts-server.js';

// Secret-looking values: no message, log line or printed error may ever contain them.
const SECRET = 'iniSecretKEY/0123456789abcdefghijklmnopqrst';
const SECRET2 = 'iniSecretKEY/second-value-zyxwvutsrqponmlk';
const TOKEN = 'iniSessionTOKEN-never-printed';
const SECRETS = [SECRET, SECRET2, TOKEN];

let root: string;
let dir: string;
let counter = 0;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'credchain-ini-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});
beforeEach(async () => {
  dir = path.join(root, `case-${++counter}`);
  await mkdir(dir);
});

const configPath = () => path.join(dir, 'config');
const credentialsPath = () => path.join(dir, 'credentials');

async function files(config: string | undefined, credentials: string | undefined) {
  if (config !== undefined) await writeFile(configPath(), config);
  if (credentials !== undefined) await writeFile(credentialsPath(), credentials);
}

/** fromIni on this case's files, with an environment that holds nothing else. */
function ini(options: FromIniOptions = {}) {
  return fromIni({ configFile: configPath(), credentialsFile: credentialsPath(), env: { HOME: dir }, ...options });
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CredentialsError);
  const e = error as Error;
  for (const text of [e.message, JSON.stringify(e), inspect(e), String(e)]) for (const s of SECRETS) expect(text).not.toContain(s);
  return e;
}

const STATIC_CREDENTIALS = `[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key = ${SECRET}

[dev]
aws_access_key_id = AKIDDEV
aws_secret_access_key = ${SECRET2}
aws_session_token = ${TOKEN}
aws_account_id = 111122223333
`;

describe('fromIni: static keys', () => {
  it('reads the default profile from the credentials file, named `ini`', async () => {
    await files(undefined, STATIC_CREDENTIALS);
    const provider = ini();
    expect(providerNameOf(provider)).toBe('ini');
    const creds = await provider();
    expect(creds).toMatchObject({ accessKeyId: 'AKIDDEFAULT', secretAccessKey: SECRET });
    expect(creds.sessionToken).toBeUndefined();
    expect(creds.expiration).toBeUndefined();
    expect(inspect(creds)).not.toContain(SECRET);
    expect(JSON.stringify(creds)).not.toContain(SECRET);
  });

  it('profile: option, then AWS_PROFILE, then default', async () => {
    await files(undefined, STATIC_CREDENTIALS);
    expect((await ini({ profile: 'dev' })()).accessKeyId).toBe('AKIDDEV');
    expect((await ini({ env: { HOME: dir, AWS_PROFILE: 'dev' } })()).accessKeyId).toBe('AKIDDEV');
    expect((await ini({ profile: 'default', env: { HOME: dir, AWS_PROFILE: 'dev' } })()).accessKeyId).toBe('AKIDDEFAULT');
    expect((await ini({ env: { HOME: dir, AWS_PROFILE: '  ' } })()).accessKeyId).toBe('AKIDDEFAULT'); // blank = unset
  });

  it('session token and account id come along', async () => {
    await files(undefined, STATIC_CREDENTIALS);
    const creds = await ini({ profile: 'dev' })();
    expect(creds).toMatchObject({ accessKeyId: 'AKIDDEV', secretAccessKey: SECRET2, sessionToken: TOKEN, accountId: '111122223333' });
  });

  it('finds the files through HOME and AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE', async () => {
    await mkdir(path.join(dir, '.aws'));
    await writeFile(path.join(dir, '.aws', 'credentials'), STATIC_CREDENTIALS);
    expect((await fromIni({ env: { HOME: dir } })()).accessKeyId).toBe('AKIDDEFAULT');
    await writeFile(path.join(dir, 'elsewhere'), '[profile x]\naws_access_key_id = AKIDX\naws_secret_access_key = s\n');
    const viaEnv = fromIni({ profile: 'x', env: { HOME: dir, AWS_CONFIG_FILE: path.join(dir, 'elsewhere') } });
    expect((await viaEnv()).accessKeyId).toBe('AKIDX');
    const viaTilde = fromIni({ profile: 'dev', env: { HOME: dir, AWS_SHARED_CREDENTIALS_FILE: '~/.aws/credentials' } });
    expect((await viaTilde()).accessKeyId).toBe('AKIDDEV');
  });

  it('config file `[profile x]` keys, with the credentials file winning per key', async () => {
    await files(
      `[profile both]\naws_access_key_id = AKIDCONFIG\naws_secret_access_key = ${SECRET}\n\n[profile cfgonly]\naws_access_key_id = AKIDCFG\naws_secret_access_key = ${SECRET}\n`,
      `[both]\naws_access_key_id = AKIDCREDS\naws_secret_access_key = ${SECRET2}\n`,
    );
    expect(await ini({ profile: 'both' })()).toMatchObject({ accessKeyId: 'AKIDCREDS', secretAccessKey: SECRET2 });
    expect((await ini({ profile: 'cfgonly' })()).accessKeyId).toBe('AKIDCFG');
  });

  it('profile names with every character the conformance cases allow', async () => {
    const name = 'a-b/c.d%e@f_g:h+i';
    await files(`[profile ${name}]\naws_access_key_id = AKIDODD\naws_secret_access_key = ${SECRET}\n`, undefined);
    expect((await ini({ profile: name })()).accessKeyId).toBe('AKIDODD');
  });

  it('one key of the pair without the other: a real error naming profile, file and missing key', async () => {
    await files(undefined, `[half]\naws_access_key_id = AKIDHALF\n\n[other]\naws_secret_access_key = ${SECRET}\n`);
    const e1 = await failure(ini({ profile: 'half' })());
    expect(e1).toBeInstanceOf(ProfileConfigError);
    expect(isNotFound(e1)).toBe(false);
    expect(e1.message).toContain('`half`');
    expect(e1.message).toContain(credentialsPath());
    expect(e1.message).toContain('aws_secret_access_key');
    const e2 = await failure(ini({ profile: 'other' })());
    expect(e2.message).toContain('`other`');
    expect(e2.message).toContain('sets aws_secret_access_key but not aws_access_key_id');
  });
});

describe('fromIni: missing profiles and files', () => {
  it('no files at all: not-found', async () => {
    const error = await failure(ini()());
    expect(error).toBeInstanceOf(CredentialsNotFound);
    expect(error.message).toContain('`default`');
  });

  it('no default profile, implied or named: not-found (botocore), so a chain moves on', async () => {
    await files('[profile a]\nregion = us-east-1\n', '[b]\naws_access_key_id = AKIDB\naws_secret_access_key = x\n');
    expect(await failure(ini()())).toBeInstanceOf(CredentialsNotFound);
    expect(await failure(ini({ profile: 'default' })())).toBeInstanceOf(CredentialsNotFound);
    expect(await failure(ini({ env: { HOME: dir, AWS_PROFILE: 'default' } })())).toBeInstanceOf(CredentialsNotFound);
  });

  it('a named profile that does not exist: a real error listing the profiles that do', async () => {
    await files('[profile a]\nregion = us-east-1\n', `[b]\naws_access_key_id = AKIDB\naws_secret_access_key = ${SECRET}\n`);
    for (const options of [{ profile: 'nope' }, { env: { HOME: dir, AWS_PROFILE: 'nope' } }]) {
      const error = await failure(ini(options)());
      expect(error).toBeInstanceOf(ProfileNotFoundError);
      expect(isNotFound(error)).toBe(false);
      expect(error.message).toContain('`nope`');
      expect(error.message).toContain('profiles that exist: a, b');
      expect(error.message).toContain(configPath());
      expect(error.message).toContain(credentialsPath());
    }
  });

  it('a profile with no credentials at all: not-found naming it', async () => {
    await files('[default]\nregion = us-west-2\n', undefined);
    const error = await failure(ini()());
    expect(error).toBeInstanceOf(CredentialsNotFound);
    expect(error.message).toContain('`default`');
    expect(error.message).toContain(configPath());
  });

  it('a named profile with no credentials: a real error naming it and its file, never not-found', async () => {
    await files('[default]\nregion = us-west-2\n[profile settings]\nregion = eu-west-1\n', undefined);
    for (const options of [{ profile: 'settings' }, { env: { HOME: dir, AWS_CONFIG_FILE: configPath(), AWS_PROFILE: 'settings' } }]) {
      const error = await failure(ini(options)());
      expect(error).toBeInstanceOf(ProfileConfigError);
      expect(isNotFound(error)).toBe(false);
      expect(error.message).toContain('Profile `settings`');
      expect(error.message).toContain('sets no credentials');
      expect(error.message).toContain(configPath());
    }
    // `default` named explicitly stays not-found, as botocore does.
    expect(await failure(ini({ profile: 'default' })())).toBeInstanceOf(CredentialsNotFound);
  });

  it('a parse error names file and line and never quotes the line', async () => {
    await files(`[default]\nregion = us-east-1\n${SECRET}\n`, undefined);
    const error = await failure(ini()());
    expect(error).toBeInstanceOf(ConfigParseError);
    expect(error.message).toContain(configPath());
    expect(error.message).toContain('line 3');
  });

  it('an unreadable file (a directory) is an error naming it', async () => {
    await mkdir(credentialsPath());
    const error = await failure(ini()());
    expect(error).toBeInstanceOf(ConfigFileError);
    expect(error.message).toContain(credentialsPath());
  });

  it('a source_profile cycle prints the cycle', async () => {
    await files(
      '[profile a]\nrole_arn = arn:aws:iam::123456789012:role/a\nsource_profile = b\n[profile b]\nrole_arn = arn:aws:iam::123456789012:role/b\nsource_profile = a\n',
      undefined,
    );
    const error = await failure(ini({ profile: 'a' })());
    expect(error).toBeInstanceOf(ProfileCycleError);
    expect(error.message).toContain('a -> b -> a');
  });

  it('SSO profiles without a cached token: a real error that says to run aws sso login (details: sso-ini.test.ts)', async () => {
    await files(
      '[profile sso]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Dev\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n',
      undefined,
    );
    const error = await failure(ini({ profile: 'sso' })());
    expect(error).toBeInstanceOf(ProfileCredentialsError);
    expect(error.cause).toBeInstanceOf(SsoTokenError);
    expect(isNotFound(error)).toBe(false);
    expect(error.message).toContain('aws sso login --profile sso');
    // Asking again fails the same way (the failed build is not cached as a success).
    expect((await failure(ini({ profile: 'sso' })())).message).toBe(error.message);
  });
});

describe('fromIni: files change', () => {
  it('repeated calls neither re-read nor re-parse; an edit is picked up at the next call', async () => {
    clearSharedConfigCache();
    await files(undefined, STATIC_CREDENTIALS);
    const provider = ini();
    expect((await provider()).accessKeyId).toBe('AKIDDEFAULT');
    const after = sharedConfigCacheStats();
    for (let i = 0; i < 5; i++) await provider();
    expect(sharedConfigCacheStats().parses).toBe(after.parses);
    expect(sharedConfigCacheStats().reads).toBe(after.reads);

    await writeFile(credentialsPath(), STATIC_CREDENTIALS.replace('AKIDDEFAULT', 'AKIDEDITED'));
    const future = new Date(Date.now() + 5_000);
    await utimes(credentialsPath(), future, future); // a different mtime even on coarse clocks
    expect((await provider()).accessKeyId).toBe('AKIDEDITED');
    expect(sharedConfigCacheStats().parses).toBe(after.parses + 1);
  });

  it('a profile that disappears becomes a not-found / error at the next call', async () => {
    await files(undefined, STATIC_CREDENTIALS);
    const provider = ini({ profile: 'dev' });
    await provider();
    await writeFile(credentialsPath(), '[default]\naws_access_key_id = A\naws_secret_access_key = B\n');
    const future = new Date(Date.now() + 10_000);
    await utimes(credentialsPath(), future, future);
    expect(await failure(provider())).toBeInstanceOf(ProfileNotFoundError);
  });
});

describe('fromIni: credential_process', () => {
  const NODE = process.execPath;

  /** A command that counts its runs in a file and prints credentials expiring at `expiration`. */
  async function countingCommand(expiration: string | undefined) {
    const script = path.join(dir, 'helper.mjs');
    const count = path.join(dir, 'count');
    await writeFile(count, '0');
    await writeFile(
      script,
      `import { readFileSync, writeFileSync } from 'node:fs';
const n = Number(readFileSync(${JSON.stringify(count)}, 'utf8')) + 1;
writeFileSync(${JSON.stringify(count)}, String(n));
process.stdout.write(JSON.stringify({ Version: 1, AccessKeyId: 'AKIDPROC' + n, SecretAccessKey: ${JSON.stringify(SECRET)},
  SessionToken: ${JSON.stringify(TOKEN)}${expiration ? `, Expiration: ${JSON.stringify(expiration)}` : ''} }));`,
    );
    return { command: `"${NODE}" "${script}"`, runs: async () => Number(await readFile(count, 'utf8')) };
  }

  it('runs the command, honours Expiration, and runs it again only when a renewal is due', async () => {
    const { command, runs } = await countingCommand('2030-01-01T01:00:00Z');
    await files(`[profile proc]\ncredential_process = ${command}\n`, undefined);
    let t = Date.parse('2030-01-01T00:00:00Z');
    const provider = ini({ profile: 'proc', now: () => t });
    const first = await provider();
    expect(first).toMatchObject({ accessKeyId: 'AKIDPROC1', secretAccessKey: SECRET, sessionToken: TOKEN });
    expect(first.expiration?.toISOString()).toBe('2030-01-01T01:00:00.000Z');
    await provider();
    await provider();
    expect(await runs()).toBe(1);
    t = Date.parse('2030-01-01T00:58:00Z'); // inside the mandatory window
    expect((await provider()).accessKeyId).toBe('AKIDPROC2');
    expect(await runs()).toBe(2);
  });

  it('static keys in the credentials file win over credential_process; config-file keys lose to it (botocore order)', async () => {
    const { command } = await countingCommand(undefined);
    await files(
      `[profile cfgkeys]\naws_access_key_id = AKIDCFG\naws_secret_access_key = ${SECRET}\ncredential_process = ${command}\n` +
        `[profile credkeys]\ncredential_process = ${command}\n`,
      `[credkeys]\naws_access_key_id = AKIDCRED\naws_secret_access_key = ${SECRET}\n`,
    );
    expect((await ini({ profile: 'cfgkeys' })()).accessKeyId).toBe('AKIDPROC1');
    expect((await ini({ profile: 'credkeys' })()).accessKeyId).toBe('AKIDCRED');
  });

  it('a failing command: a real error naming the profile and file, quoting stderr, never stdout', async () => {
    const script = path.join(dir, 'fail.mjs');
    await writeFile(script, `process.stdout.write(${JSON.stringify(SECRET)}); process.stderr.write('token expired, run login'); process.exit(3);`);
    await files(`[profile proc]\ncredential_process = "${NODE}" "${script}"\n`, undefined);
    const error = await failure(ini({ profile: 'proc' })());
    expect(error).toBeInstanceOf(ProfileCredentialsError);
    expect(error.message).toContain('`proc`');
    expect(error.message).toContain(configPath());
    expect(error.message).toContain('token expired, run login');
  });
});

describe('fromIni: MFA without tokenCode', () => {
  it('fails before any request, naming the profile, the file and mfa_serial', async () => {
    const sts = await startStsServer();
    try {
      await files(
        '[profile mfa]\nrole_arn = arn:aws:iam::123456789012:role/admin\nsource_profile = base\nmfa_serial = arn:aws:iam::123456789012:mfa/alice\n',
        `[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = ${SECRET}\n`,
      );
      const error = await failure(ini({ profile: 'mfa', sts: { endpoint: sts.url } })());
      expect(error).toBeInstanceOf(ProfileConfigError);
      expect(error.message).toContain('`mfa`');
      expect(error.message).toContain(configPath());
      expect(error.message).toContain('mfa_serial');
      expect(error.message).toContain('tokenCode');
      expect(sts.requests).toHaveLength(0);
    } finally {
      await sts.close();
    }
  });
});
