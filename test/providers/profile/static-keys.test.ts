import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ProfileConfigError, ProfileNotFoundError } from '../../../src/config/errors.js';
import { parseSharedFile } from '../../../src/config/parse.js';
import { ProfileSectionIgnoredError } from '../../../src/config/plan.js';
import { CredentialsError, isNotFound } from '../../../src/errors.js';
import { fromIni, type FromIniOptions } from '../../../src/providers/profile/ini.js';

// Static-key rules of issue 12: which file a key pair and its token come from, the legacy token name,
// and profile headers the cross-SDK rules reject. Real files in a temp dir, read through fromIni.

const SECRET = 'staticKeysSECRET/0123456789abcdefghijklmn';
const TOKEN = 'staticKeysTOKEN-never-printed';
const LEGACY = 'staticKeysLEGACYtoken-never-printed';
const SECRETS = [SECRET, TOKEN, LEGACY];

let root: string;
let dir: string;
let counter = 0;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'credchain-ini-static-'));
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

async function files(config: string, credentials: string) {
  await writeFile(configPath(), config);
  await writeFile(credentialsPath(), credentials);
}

function captureDebug() {
  const lines: string[] = [];
  const push = (...args: unknown[]) => lines.push(args.map(String).join(' '));
  return { lines, logger: { debug: push, info: push, warn: push, error: push } };
}

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

describe('a key pair split across the config and credentials files', () => {
  it('access key id in the config file, secret in the credentials file: an error naming both files', async () => {
    await files(`[profile split]\naws_access_key_id = AKIDSPLIT\n`, `[split]\naws_secret_access_key = ${SECRET}\n`);
    const e = await failure(ini({ profile: 'split' })());
    expect(e).toBeInstanceOf(ProfileConfigError);
    expect(isNotFound(e)).toBe(false);
    expect(e.message).toContain('`split`');
    expect(e.message).toContain(`aws_secret_access_key in ${credentialsPath()}`);
    expect(e.message).toContain(`aws_access_key_id in ${configPath()}`);
    expect((e as ProfileConfigError).key).toBe('aws_access_key_id');
  });

  it('access key id in the credentials file, secret in the config file: the same error the other way round', async () => {
    await files(`[profile split]\naws_secret_access_key = ${SECRET}\n`, `[split]\naws_access_key_id = AKIDSPLIT\n`);
    const e = await failure(ini({ profile: 'split' })());
    expect(e).toBeInstanceOf(ProfileConfigError);
    expect(e.message).toContain(`aws_access_key_id in ${credentialsPath()}`);
    expect(e.message).toContain(`aws_secret_access_key in ${configPath()}`);
  });

  it('also for the default profile and for a source profile of a role', async () => {
    await files(
      `[default]\naws_access_key_id = AKIDDEF\n[profile role]\nrole_arn = arn:aws:iam::123456789012:role/r\nsource_profile = base\n[profile base]\naws_access_key_id = AKIDBASE\n`,
      `[default]\naws_secret_access_key = ${SECRET}\n[base]\naws_secret_access_key = ${SECRET}\n`,
    );
    const def = await failure(ini()());
    expect(isNotFound(def)).toBe(false);
    expect(def.message).toContain(configPath());
    expect(def.message).toContain(credentialsPath());
    const role = await failure(ini({ profile: 'role' })());
    expect(role).toBeInstanceOf(ProfileConfigError);
    expect(role.message).toContain('`base`');
    expect(role.message).toContain(credentialsPath());
  });

  it('a whole pair in one file and nothing in the other still works, from either file', async () => {
    await files(`[profile cfg]\naws_access_key_id = AKIDCFG\naws_secret_access_key = ${SECRET}\n`, `[creds]\naws_access_key_id = AKIDCREDS\naws_secret_access_key = ${SECRET}\n`);
    expect((await ini({ profile: 'cfg' })()).accessKeyId).toBe('AKIDCFG');
    expect((await ini({ profile: 'creds' })()).accessKeyId).toBe('AKIDCREDS');
  });
});

describe('aws_session_token only from the section that holds the keys', () => {
  it('a token in the config file does not join keys from the credentials file; a debug line says so', async () => {
    await files(`[profile p]\naws_session_token = ${TOKEN}\nregion = eu-west-1\n`, `[p]\naws_access_key_id = AKIDP\naws_secret_access_key = ${SECRET}\n`);
    const { lines, logger } = captureDebug();
    const c = await ini({ profile: 'p', logger })();
    expect(c.accessKeyId).toBe('AKIDP');
    expect(c.sessionToken).toBeUndefined();
    const note = lines.find((l) => l.includes('aws_session_token') && l.includes('ignored'));
    expect(note).toContain(configPath());
    expect(note).toContain(credentialsPath());
    for (const line of lines) for (const s of SECRETS) expect(line).not.toContain(s);
  });

  it('a token in the credentials file does not join keys from the config file', async () => {
    await files(`[profile p]\naws_access_key_id = AKIDP\naws_secret_access_key = ${SECRET}\n`, `[p]\naws_session_token = ${TOKEN}\n`);
    const { lines, logger } = captureDebug();
    const c = await ini({ profile: 'p', logger })();
    expect(c.sessionToken).toBeUndefined();
    expect(lines.some((l) => l.includes(`aws_session_token in ${credentialsPath()} ignored`))).toBe(true);
  });

  it('a token next to its keys is used, and no debug line is written', async () => {
    await files(`[profile p]\nregion = eu-west-1\n`, `[p]\naws_access_key_id = AKIDP\naws_secret_access_key = ${SECRET}\naws_session_token = ${TOKEN}\n`);
    const { lines, logger } = captureDebug();
    expect((await ini({ profile: 'p', logger })()).sessionToken).toBe(TOKEN);
    expect(lines.some((l) => l.includes('ignored'))).toBe(false);
  });
});

describe('the legacy aws_security_token', () => {
  it('is the session token when aws_session_token is absent, in either file', async () => {
    await files(
      `[profile cfg]\naws_access_key_id = AKIDCFG\naws_secret_access_key = ${SECRET}\naws_security_token = ${LEGACY}\n`,
      `[creds]\naws_access_key_id = AKIDCREDS\naws_secret_access_key = ${SECRET}\naws_security_token = ${LEGACY}\n`,
    );
    expect((await ini({ profile: 'cfg' })()).sessionToken).toBe(LEGACY);
    expect((await ini({ profile: 'creds' })()).sessionToken).toBe(LEGACY);
  });

  it('loses to aws_session_token in the same section', async () => {
    await files('', `[both]\naws_access_key_id = AKID\naws_secret_access_key = ${SECRET}\naws_security_token = ${LEGACY}\naws_session_token = ${TOKEN}\n`);
    expect((await ini({ profile: 'both' })()).sessionToken).toBe(TOKEN);
  });

  it('from the other file is ignored like aws_session_token', async () => {
    await files(`[profile p]\naws_security_token = ${LEGACY}\n`, `[p]\naws_access_key_id = AKIDP\naws_secret_access_key = ${SECRET}\n`);
    const { lines, logger } = captureDebug();
    expect((await ini({ profile: 'p', logger })()).sessionToken).toBeUndefined();
    expect(lines.some((l) => l.includes(`aws_security_token in ${configPath()} ignored`))).toBe(true);
  });

  it('is masked when a parsed section is printed', () => {
    const parsed = parseSharedFile(`[p]\naws_security_token = ${LEGACY}\n`, 'credentials', '/x/credentials');
    expect(inspect(parsed.profiles)).not.toContain(LEGACY);
    expect(JSON.stringify(parsed.profiles)).not.toContain(LEGACY);
  });
});

describe('a profile header the cross-SDK rules reject but the AWS CLI accepts', () => {
  it('[profile "my profile"] in the config file: the error names the file, the line and why', async () => {
    await files(`[default]\nregion = us-east-1\n\n[profile "my profile"]\naws_access_key_id = AKIDQ\naws_secret_access_key = ${SECRET}\n`, '');
    const e = await failure(ini({ profile: 'my profile' })());
    expect(e).toBeInstanceOf(ProfileSectionIgnoredError);
    expect(e).toBeInstanceOf(ProfileNotFoundError);
    expect(isNotFound(e)).toBe(false);
    expect(e.message).toContain(`${configPath()}, line 4`);
    expect(e.message).toContain('not taken as a profile');
    expect(e.message).toContain('may only hold letters');
    expect(e.message).toContain('the AWS CLI reads it as profile `my profile`');
    expect((e as ProfileSectionIgnoredError).lineNumber).toBe(4);
    expect((e as ProfileSectionIgnoredError).filePath).toBe(configPath());
  });

  it("[my profile] in the credentials file, and [profile 'x y'] with single quotes", async () => {
    await files(`[profile 'x y']\nregion = us-east-1\n`, `[default]\naws_access_key_id = A\naws_secret_access_key = ${SECRET}\n[my profile]\naws_access_key_id = AKIDQ\n`);
    const creds = await failure(ini({ profile: 'my profile' })());
    expect(creds.message).toContain(`${credentialsPath()}, line 4`);
    const quoted = await failure(ini({ profile: 'x y' })());
    expect(quoted.message).toContain(`${configPath()}, line 1`);
    expect(quoted.message).toContain("profile `x y`");
    // the name as written (with its quotes) is recognised too
    expect((await failure(ini({ profile: "'x y'" })())).message).toContain(`${configPath()}, line 1`);
  });

  it('a source_profile naming such a section says so too', async () => {
    await files(`[profile role]\nrole_arn = arn:aws:iam::123456789012:role/r\nsource_profile = my base\n[profile "my base"]\naws_access_key_id = A\n`, '');
    const e = await failure(ini({ profile: 'role' })());
    expect(e).toBeInstanceOf(ProfileConfigError);
    expect(e.message).toContain(`${configPath()}, line 4`);
  });

  it('a config-file [name] without the profile prefix is named when that profile is selected', async () => {
    await files(`[work]\naws_access_key_id = A\n`, '');
    const e = await failure(ini({ profile: 'work' })());
    expect(e.message).toContain(`${configPath()}, line 1`);
    expect(e.message).toContain('[profile <name>]');
  });

  it('a profile that simply does not exist keeps the plain message', async () => {
    await files(`[profile "my profile"]\nregion = x\n`, '');
    const e = await failure(ini({ profile: 'other' })());
    expect(e).toBeInstanceOf(ProfileNotFoundError);
    expect(e).not.toBeInstanceOf(ProfileSectionIgnoredError);
    expect(e.message).not.toContain('line');
  });
});
