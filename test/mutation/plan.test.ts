import { describe, expect, it } from 'vitest';
import { ProfileConfigError, ProfileNotFoundError, ProfileSectionIgnoredError } from '../../src/config/errors.js';
import type { IgnoredProfileSection } from '../../src/config/parse.js';
import { planProfile, type PlanInput } from '../../src/config/plan.js';
import { CredentialsNotFound } from '../../src/errors.js';

// Tests added from the surviving mutants of `node bench/mutation.mjs config/plan` (bench/MUTATION.md):
// the exact shape of plans (no keys set to undefined) and the messages that name the file at fault.
type Profiles = Record<string, Record<string, string>>;
const CONFIG = '/home/u/.aws/config';
const CREDENTIALS = '/home/u/.aws/credentials';
const KEYS = { aws_access_key_id: 'AKIDPLAN', aws_secret_access_key: 'plan-secret-value' };

/** A plan input with per-file views, the way `loadSharedConfig` builds it (config first, credentials win). */
function files(config: Profiles, credentials: Profiles, extra: Partial<PlanInput> = {}): PlanInput {
  const profiles: Profiles = {};
  for (const [name, section] of [...Object.entries(config), ...Object.entries(credentials)]) {
    profiles[name] = { ...profiles[name], ...section };
  }
  return {
    profileName: 'p',
    profiles,
    configFileProfiles: config,
    credentialsFileProfiles: credentials,
    configPath: CONFIG,
    credentialsPath: CREDENTIALS,
    ...extra,
  };
}

function errorOf(input: PlanInput): Error {
  try {
    planProfile(input);
  } catch (error) {
    return error as Error;
  }
  throw new Error('planProfile did not throw');
}

const ignored = (name: string): IgnoredProfileSection => ({
  names: [name],
  awsCliName: undefined,
  filePath: CONFIG,
  lineNumber: 3,
  reason: 'its name has a space',
});

describe('planProfile shapes (mutation)', () => {
  it('a plain plan has no notes and no region keys', () => {
    const plan = planProfile({ profileName: 'p', profiles: { p: KEYS } });
    expect(Object.keys(plan).sort()).toEqual(['base', 'profileName', 'roleHops']);
  });

  it('web identity, process and login bases carry only the keys that are set', () => {
    const web = planProfile({ profileName: 'p', profiles: { p: { role_arn: 'arn:aws:iam::1:role/r', web_identity_token_file: '/t' } } });
    expect(web.base).toStrictEqual({ kind: 'web-identity', profileName: 'p', roleArn: 'arn:aws:iam::1:role/r', tokenFile: '/t' });
    const process = planProfile({ profileName: 'p', profiles: { p: { credential_process: 'run-me' } } });
    expect(process.base).toStrictEqual({ kind: 'process', profileName: 'p', command: 'run-me' });
    const withAccount = planProfile({ profileName: 'p', profiles: { p: { credential_process: 'run-me', aws_account_id: '123' } } });
    expect(withAccount.base).toStrictEqual({ kind: 'process', profileName: 'p', command: 'run-me', accountId: '123' });
    const login = planProfile({ profileName: 'p', profiles: { p: { login_session: 'arn:aws:sts::1:assumed-role/x/y' } } });
    expect(login.base).toStrictEqual({ kind: 'login', profileName: 'p', loginSession: 'arn:aws:sts::1:assumed-role/x/y' });
    const loginRegion = planProfile({ profileName: 'p', profiles: { p: { login_session: 's', region: 'eu-west-1' } } });
    expect(loginRegion.base).toStrictEqual({ kind: 'login', profileName: 'p', loginSession: 's', region: 'eu-west-1' });
    expect(loginRegion.region).toBe('eu-west-1');
  });

  it('login_session wins over static keys and credential_process, as SSO does', () => {
    const plan = planProfile({ profileName: 'p', profiles: { p: { login_session: 's', credential_process: 'x', ...KEYS } } });
    expect(plan.base.kind).toBe('login');
  });

  it('a role hop carries only the keys that are set', () => {
    const plan = planProfile({ profileName: 'p', profiles: { p: { role_arn: 'arn:r', source_profile: 'k' }, k: KEYS } });
    expect(plan.roleHops).toStrictEqual([{ profileName: 'p', roleArn: 'arn:r' }]);
  });

  it('an SSO base carries only the keys that are set', () => {
    const legacy = planProfile({ profileName: 'p', profiles: { p: { sso_start_url: 'https://s', sso_region: 'us-east-1' } } });
    expect(legacy.base).toStrictEqual({ kind: 'sso', profileName: 'p', ssoStartUrl: 'https://s', ssoRegion: 'us-east-1' });
  });

  it('duration_seconds: whole seconds from 900 to 43200, nothing around the digits', () => {
    const hop = (d: string) =>
      planProfile({ profileName: 'p', profiles: { p: { role_arn: 'arn:r', source_profile: 'k', duration_seconds: d }, k: KEYS } }).roleHops[0];
    expect(hop('43200')?.durationSeconds).toBe(43_200);
    expect(hop('900')?.durationSeconds).toBe(900);
    // Number() alone would take '9e2' and '0x384' as 900.
    for (const bad of ['900s', 'x900', '9e2', '0x384', '43201', '899']) {
      const error = (() => {
        try {
          hop(bad);
        } catch (e) {
          return e as ProfileConfigError;
        }
        return undefined;
      })();
      expect(error, bad).toBeInstanceOf(ProfileConfigError);
      expect(error?.message).toBe(
        `Profile \`p\` (in the shared config files) sets duration_seconds = ${bad}; it must be a whole number of seconds from 900 to 43200.`,
      );
      expect(error?.key).toBe('duration_seconds');
    }
  });

  it('an empty value counts as unset', () => {
    const plan = planProfile({
      profileName: 'p',
      profiles: { p: { role_arn: 'arn:r', source_profile: '', credential_source: 'Environment' } },
    });
    expect(plan.base).toStrictEqual({ kind: 'credential-source', profileName: 'p', name: 'Environment' });
  });

  it('per-file views given only in part fall back to the merged profile for the key pair', () => {
    const onlyCredentials = planProfile({ profileName: 'p', profiles: { p: KEYS }, credentialsFileProfiles: { p: KEYS } });
    expect(onlyCredentials.base.kind === 'static' && onlyCredentials.base.credentials.accessKeyId).toBe('AKIDPLAN');
    const onlyConfig = planProfile({ profileName: 'p', profiles: { p: KEYS }, configFileProfiles: { p: KEYS } });
    expect(onlyConfig.base.kind === 'static' && onlyConfig.base.credentials.accessKeyId).toBe('AKIDPLAN');
    // Views that do not hold the profile at all (pure use): the merged profile still decides.
    const neither = planProfile({ profileName: 'p', profiles: { p: KEYS }, configFileProfiles: {}, credentialsFileProfiles: {} });
    expect(neither.base.kind === 'static' && neither.base.credentials.accessKeyId).toBe('AKIDPLAN');
  });
});

describe('planProfile messages (mutation)', () => {
  it('role profile with both sources, or neither, names the key and the file that set it', () => {
    const both = errorOf(files({ 'profile p': {}, p: { role_arn: 'arn:r', credential_source: 'Environment' } }, { p: { source_profile: 'k' }, k: KEYS }));
    expect(both).toBeInstanceOf(ProfileConfigError);
    expect(both.message).toBe(`Profile \`p\` (in ${CONFIG}) sets both source_profile and credential_source; keep only one.`);
    expect((both as ProfileConfigError).key).toBe('credential_source');

    const neither = errorOf(files({ p: { role_arn: 'arn:r' } }, {}));
    expect(neither.message).toBe(`Profile \`p\` (in ${CONFIG}) sets role_arn but neither source_profile nor credential_source; add one of them.`);
    expect((neither as ProfileConfigError).key).toBe('source_profile');
  });

  it('a missing source_profile lists the profiles that exist, sorted, and the ignored header meant for it', () => {
    const input: PlanInput = {
      profileName: 'p',
      profiles: { p: { role_arn: 'arn:r', source_profile: 'my src' }, b: KEYS, a: KEYS },
      ignoredProfiles: [ignored('my src')],
    };
    expect(errorOf(input).message).toBe(
      'Profile `p` (in the shared config files) sets source_profile = my src, but no profile of that name exists (profiles that exist: a, b, p). ' +
        `${CONFIG}, line 3 has a section header for it that was not taken as a profile, because its name has a space. ` +
        'Rename the section (e.g. dashes instead of spaces, no quotes) and use the new name.',
    );
    const plain = errorOf({ profileName: 'p', profiles: { p: { role_arn: 'arn:r', source_profile: 'gone' } } });
    expect(plain.message).toBe(
      'Profile `p` (in the shared config files) sets source_profile = gone, but no profile of that name exists (profiles that exist: p).',
    );
  });

  it('a source profile without credentials names the profile that points at it', () => {
    const error = errorOf({
      profileName: 'p',
      profiles: { p: { role_arn: 'arn:r', source_profile: 'mid' }, mid: { role_arn: 'arn:m', source_profile: 'empty' }, empty: { region: 'x' } },
    });
    expect(error).toBeInstanceOf(ProfileConfigError);
    expect(error.message).toBe(
      'Profile `empty` (in the shared config files) is the source_profile of `mid` but sets no credentials ' +
        '(aws_access_key_id + aws_secret_access_key, role_arn, web_identity_token_file, credential_process or sso_session).',
    );
  });

  it('`default` as a source profile without credentials is a config error, not "not found"', () => {
    const error = errorOf({ profileName: 'p', profiles: { p: { role_arn: 'arn:r', source_profile: 'default' }, default: { region: 'x' } } });
    expect(error).toBeInstanceOf(ProfileConfigError);
    expect(error.message).toContain('Profile `default` (in the shared config files) is the source_profile of `p` but sets no credentials');
  });

  it('a named profile without credentials is a config error; `default` without them is "not found"', () => {
    const named = errorOf(files({ 'p': { region: 'x' } }, {}));
    expect(named).toBeInstanceOf(ProfileConfigError);
    expect(named.message).toBe(
      `Profile \`p\` (in ${CONFIG}) sets no credentials ` +
        '(aws_access_key_id + aws_secret_access_key, role_arn, web_identity_token_file, credential_process or sso_session).',
    );
    const dflt = errorOf(files({}, { default: { region: 'x' } }, { profileName: 'default' }));
    expect(dflt).toBeInstanceOf(CredentialsNotFound);
    expect(dflt).not.toBeInstanceOf(ProfileConfigError);
    expect(dflt.message).toBe(
      `Profile \`default\` (in ${CREDENTIALS}) sets no credentials ` +
        '(aws_access_key_id + aws_secret_access_key, role_arn, web_identity_token_file, credential_process or sso_session).',
    );
    expect((dflt as CredentialsNotFound).providerName).toBe('ini');
  });

  it('a missing selected profile: `default` is "not found", another name lists the profiles, sorted', () => {
    const dflt = errorOf({ profileName: 'default', profiles: {}, configPath: CONFIG, credentialsPath: CREDENTIALS });
    expect(dflt).toBeInstanceOf(CredentialsNotFound);
    expect(dflt.message).toBe(`No \`default\` profile in ${CONFIG} or ${CREDENTIALS}.`);
    expect((dflt as CredentialsNotFound).providerName).toBe('ini');

    const onlyConfig = errorOf({ profileName: 'default', profiles: {}, configPath: CONFIG });
    expect(onlyConfig.message).toBe(`No \`default\` profile in ${CONFIG}.`);
    const onlyCredentials = errorOf({ profileName: 'default', profiles: {}, credentialsPath: CREDENTIALS });
    expect(onlyCredentials.message).toBe(`No \`default\` profile in ${CREDENTIALS}.`);
    const none = errorOf({ profileName: 'default', profiles: {} });
    expect(none.message).toBe('No `default` profile in the shared config files.');

    const other = errorOf({ profileName: 'nope', profiles: { zed: KEYS, alpha: KEYS } });
    expect(other).toBeInstanceOf(ProfileNotFoundError);
    expect((other as ProfileNotFoundError).availableProfiles).toEqual(['alpha', 'zed']);

    const withIgnored = errorOf({ profileName: 'my p', profiles: { zed: KEYS, alpha: KEYS }, ignoredProfiles: [ignored('my p')] });
    expect(withIgnored).toBeInstanceOf(ProfileSectionIgnoredError);
    expect((withIgnored as ProfileNotFoundError).availableProfiles).toEqual(['alpha', 'zed']);
  });

  it('web_identity_token_file without role_arn', () => {
    const error = errorOf(files({}, { p: { web_identity_token_file: '/t' } }));
    expect(error.message).toBe(`Profile \`p\` (in ${CREDENTIALS}) sets web_identity_token_file but not role_arn; add the role to assume.`);
    expect((error as ProfileConfigError).key).toBe('role_arn');
  });

  it('half a key pair: in one file, or split across the two files', () => {
    const half = errorOf(files({}, { p: { aws_access_key_id: 'AKIDPLAN' } }));
    expect(half.message).toBe(`Profile \`p\` (in ${CREDENTIALS}) sets aws_access_key_id but not aws_secret_access_key; set both or neither.`);
    expect((half as ProfileConfigError).key).toBe('aws_secret_access_key');

    const halfInConfig = errorOf(files({ p: { aws_secret_access_key: 'plan-secret-value' } }, { p: { region: 'x' } }));
    expect(halfInConfig.message).toBe(`Profile \`p\` (in ${CONFIG}) sets aws_secret_access_key but not aws_access_key_id; set both or neither.`);

    const split = errorOf(files({ p: { aws_secret_access_key: 'plan-secret-value' } }, { p: { aws_access_key_id: 'AKIDPLAN' } }));
    expect(split.message).toBe(
      `Profile \`p\` sets aws_access_key_id in ${CREDENTIALS} but aws_secret_access_key in ${CONFIG}; ` +
        'the two keys of a pair must be in the same file: move both to one file (usually the credentials file).',
    );
    expect(split.message).not.toContain('plan-secret-value');

    // Views without paths still say which file.
    const unnamed = errorOf({ ...files({ p: { aws_secret_access_key: 'plan-secret-value' } }, { p: { aws_access_key_id: 'AKIDPLAN' } }), configPath: undefined, credentialsPath: undefined });
    expect(unnamed.message).toContain('sets aws_access_key_id in the credentials file but aws_secret_access_key in the config file;');
  });

  it('sso_start_url or sso_region next to sso_session, and a missing sso-session section', () => {
    for (const key of ['sso_start_url', 'sso_region']) {
      const error = errorOf(files({ p: { sso_session: 's', [key]: 'v' } }, {}, { ssoSessions: { s: { sso_start_url: 'https://s', sso_region: 'r' } } }));
      expect(error.message).toBe(`Profile \`p\` (in ${CONFIG}) sets ${key} next to sso_session; move it into the [sso-session s] section.`);
      expect((error as ProfileConfigError).key).toBe(key);
    }
    const missing = errorOf({ profileName: 'p', profiles: { p: { sso_session: 's' } } });
    expect(missing).toBeInstanceOf(ProfileConfigError);
    expect(missing.message).toBe('Profile `p` (in the shared config files) sets sso_session = s, but there is no [sso-session s] section.');
  });

  it('names the file that set the key, else every file that defines the profile', () => {
    // credential_source set in the credentials file, the profile also in the config file.
    const badSource = (config: Profiles, credentials: Profiles, extra: Partial<PlanInput> = {}) =>
      errorOf(files(config, credentials, extra)).message;
    expect(badSource({ p: { role_arn: 'arn:r' } }, { p: { credential_source: 'Nope' } })).toBe(
      `Profile \`p\` (in ${CREDENTIALS}) sets credential_source = Nope, which is not one of Environment, Ec2InstanceMetadata, EcsContainer (spelled exactly so).`,
    );
    expect(badSource({ p: { credential_source: 'Nope' } }, { p: { role_arn: 'arn:r' } })).toContain(`(in ${CONFIG}) sets credential_source`);
    // A key no file view holds (merged only): the files that define the profile, config first.
    expect(badSource({ p: { role_arn: 'arn:r' } }, { p: { region: 'x' } }, { profiles: { p: { role_arn: 'arn:r', credential_source: 'Nope' } } })).toContain(
      `(in ${CONFIG} and ${CREDENTIALS}) sets credential_source`,
    );
    // Views given but no paths: nothing to name.
    expect(badSource({ p: { role_arn: 'arn:r', credential_source: 'Nope' } }, {}, { configPath: undefined, credentialsPath: undefined })).toContain(
      '(in the shared config files) sets credential_source',
    );
    // Paths given but the profile is in neither view.
    expect(badSource({}, {}, { profiles: { p: { role_arn: 'arn:r', credential_source: 'Nope' } } })).toContain(
      '(in the shared config files) sets credential_source',
    );
    // A path without its view names nothing either.
    expect(
      badSource({ p: { role_arn: 'arn:r', credential_source: 'Nope' } }, {}, { configFileProfiles: undefined, credentialsFileProfiles: { p: { credential_source: 'Nope' } }, credentialsPath: undefined }),
    ).toContain('(in the shared config files) sets credential_source');
    expect(
      badSource({}, { p: { role_arn: 'arn:r', credential_source: 'Nope' } }, { credentialsFileProfiles: undefined, configFileProfiles: { p: { credential_source: 'Nope' } }, configPath: undefined }),
    ).toContain('(in the shared config files) sets credential_source');
  });
});
