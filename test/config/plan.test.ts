import { describe, expect, it } from 'vitest';
import { inspect } from 'node:util';
import { ProfileConfigError, ProfileCycleError, ProfileNotFoundError } from '../../src/config/errors.js';
import { planProfile, type BaseSource, type CredentialPlan, type PlanInput } from '../../src/config/plan.js';
import { CredentialsError, CredentialsNotFound, isNotFound } from '../../src/errors.js';
import { readConformanceJson } from './conformance.js';

type Profiles = Record<string, Record<string, string>>;
interface AssumeRoleCase {
  docs: string;
  input: { profiles: Profiles; selected_profile: string; sso_sessions?: Profiles };
  output: { ProfileChain: Array<Record<string, unknown>> } | { Error: string };
}

const cases = readConformanceJson<AssumeRoleCase[]>('smithy-rs/assume-role-tests.json');

/** Our plan in the vocabulary of the smithy-rs cases. */
function toProfileChain(plan: CredentialPlan): Array<Record<string, unknown>> {
  const base = (b: BaseSource): Record<string, unknown> => {
    switch (b.kind) {
      case 'static':
        return {
          AccessKey: {
            access_key_id: b.credentials.accessKeyId,
            secret_access_key: b.credentials.secretAccessKey,
            ...(b.credentials.sessionToken ? { session_token: b.credentials.sessionToken } : {}),
            ...(b.credentials.accountId ? { account_id: b.credentials.accountId } : {}),
          },
        };
      case 'credential-source':
        return { NamedSource: b.name };
      case 'web-identity':
        return {
          WebIdentityToken: {
            role_arn: b.roleArn,
            web_identity_token_file: b.tokenFile,
            ...(b.roleSessionName ? { role_session_name: b.roleSessionName } : {}),
          },
        };
      case 'process':
        return { CredentialProcess: { command: b.command } };
      case 'login':
        return { Login: { login_session: b.loginSession } };
      case 'sso':
        return {
          Sso: {
            ...(b.ssoSession ? { sso_session: b.ssoSession } : {}),
            sso_region: b.ssoRegion,
            sso_start_url: b.ssoStartUrl,
            ...(b.ssoAccountId ? { sso_account_id: b.ssoAccountId, sso_role_name: b.ssoRoleName } : {}),
          },
        };
    }
  };
  return [
    base(plan.base),
    ...plan.roleHops.map((h) => ({
      AssumeRole: {
        role_arn: h.roleArn,
        ...(h.externalId ? { external_id: h.externalId } : {}),
        ...(h.roleSessionName ? { role_session_name: h.roleSessionName } : {}),
      },
    })),
  ];
}

/**
 * The error class we throw for each `Error` case (compared instead of Rust's wording). Cases
 * are keyed by position because two share the same `docs`. Differences in kind from smithy-rs:
 * - 12 "profile only contains configuration": a real error, as in Rust: the input names profile A, and a
 *   named profile without credentials never falls through (only `default` is not-found; see below).
 * - 14 "missing root profile": a named profile that does not exist is a real error listing the
 *   profiles that exist (botocore ProfileNotFound); the input names it, so it counts as named.
 * No case is skipped: the Rust-only parts (mfa_serial, duration_seconds never read) are not exercised here.
 */
const expectedErrors: Record<number, new (...args: never[]) => Error> = {
  7: ProfileConfigError, // role_arn without source_profile
  8: ProfileConfigError, // both source_profile and credential_source
  9: ProfileConfigError, // partial keys: missing secret
  10: ProfileConfigError, // partial keys: missing access key
  11: ProfileConfigError, // empty source profile
  12: ProfileConfigError, // selected (named) profile holds only configuration
  13: ProfileConfigError, // missing source profile
  14: ProfileNotFoundError, // no profiles at all, A named
  17: ProfileCycleError,
  18: ProfileCycleError,
  21: ProfileConfigError, // web_identity_token_file without role_arn
  24: ProfileConfigError, // sso_role_name without sso_account_id
  25: ProfileConfigError, // sso_account_id without sso_role_name
  26: ProfileConfigError, // sso_region next to sso_session
  28: ProfileConfigError, // sso-session not found
};

function planCase(c: AssumeRoleCase): CredentialPlan {
  return planProfile({
    profileName: c.input.selected_profile,
    profileNameSource: 'option',
    profiles: c.input.profiles,
    ssoSessions: c.input.sso_sessions ?? {},
  });
}

function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('assume-role-tests.json (smithy-rs)', () => {
  it('has the 28 cases the README describes, 15 of them errors', () => {
    expect(cases).toHaveLength(28);
    const errorIndexes = cases.flatMap((c, i) => ('Error' in c.output ? [i + 1] : []));
    expect(errorIndexes).toEqual(Object.keys(expectedErrors).map(Number));
  });

  it.each(cases.map((c, i) => [`${i + 1}: ${c.docs}`, i + 1, c] as const))('%s', (_label, index, c) => {
    if ('Error' in c.output) {
      const error = thrownBy(() => planCase(c));
      expect(error).toBeInstanceOf(expectedErrors[index]!);
      expect(error).toBeInstanceOf(CredentialsError);
      return;
    }
    expect(toProfileChain(planCase(c))).toEqual(c.output.ProfileChain);
  });
});

const CONFIG = '/home/u/.aws/config';
const CREDENTIALS = '/home/u/.aws/credentials';

/** A PlanInput shaped like loadSharedConfig's result, from per-file profiles. */
function fromFiles(profileName: string, config: Profiles, credentials: Profiles = {}, extra: Partial<PlanInput> = {}): PlanInput {
  const profiles: Profiles = {};
  for (const source of [config, credentials]) {
    for (const [name, keys] of Object.entries(source)) profiles[name] = { ...profiles[name], ...keys };
  }
  return {
    profileName,
    profileNameSource: 'option',
    profiles,
    ssoSessions: {},
    configFileProfiles: config,
    credentialsFileProfiles: credentials,
    configPath: CONFIG,
    credentialsPath: CREDENTIALS,
    ...extra,
  };
}

describe('planProfile', () => {
  const keys = { aws_access_key_id: 'AKIDEXAMPLE', aws_secret_access_key: 'SECRETKEYVALUE' };

  it('prints the whole cycle', () => {
    const error = thrownBy(() =>
      planProfile(
        fromFiles('a', {
          a: { role_arn: 'arn:a', source_profile: 'b' },
          b: { role_arn: 'arn:b', source_profile: 'c' },
          c: { role_arn: 'arn:c', source_profile: 'b' },
        }),
      ),
    ) as ProfileCycleError;
    expect(error).toBeInstanceOf(ProfileCycleError);
    expect(error.cycle).toEqual(['a', 'b', 'c', 'b']);
    expect(error.message).toContain('a -> b -> c -> b');
  });

  it('rejects a profile that is its own source without keys, as botocore does', () => {
    const error = thrownBy(() => planProfile(fromFiles('a', { a: { role_arn: 'arn:a', source_profile: 'a' } })));
    expect(error).toBeInstanceOf(ProfileCycleError);
    expect((error as Error).message).toContain('a -> a');
  });

  it('chains roles to any depth, keeping every hop setting in order', () => {
    const config: Profiles = { base: keys };
    for (let i = 1; i <= 6; i++) {
      config[`r${i}`] = { role_arn: `arn:r${i}`, source_profile: i === 1 ? 'base' : `r${i - 1}` };
    }
    config.r6 = {
      ...config.r6,
      external_id: 'ext',
      role_session_name: 'me',
      duration_seconds: '3600',
      mfa_serial: 'arn:aws:iam::1:mfa/me',
      region: 'eu-central-1',
    };
    const plan = planProfile(fromFiles('r6', config));
    expect(plan.region).toBe('eu-central-1');
    expect(plan.base).toMatchObject({ kind: 'static', profileName: 'base' });
    expect(plan.roleHops.map((h) => h.roleArn)).toEqual(['arn:r1', 'arn:r2', 'arn:r3', 'arn:r4', 'arn:r5', 'arn:r6']);
    expect(plan.roleHops[5]).toEqual({
      profileName: 'r6',
      roleArn: 'arn:r6',
      externalId: 'ext',
      roleSessionName: 'me',
      durationSeconds: 3600,
      mfaSerial: 'arn:aws:iam::1:mfa/me',
    });
  });

  it('rejects a duration_seconds STS would refuse, naming profile, file and key', () => {
    for (const bad of ['60', '1h', '43201']) {
      const error = thrownBy(() =>
        planProfile(fromFiles('r', { r: { role_arn: 'arn:r', credential_source: 'Environment', duration_seconds: bad } })),
      ) as ProfileConfigError;
      expect(error).toBeInstanceOf(ProfileConfigError);
      expect(error.key).toBe('duration_seconds');
      expect(error.message).toContain(`Profile \`r\` (in ${CONFIG})`);
    }
  });

  it('names the profile, the file and the missing key of a partial key pair, without the key', () => {
    const error = thrownBy(() =>
      planProfile(fromFiles('dev', { dev: { region: 'x' } }, { dev: { aws_access_key_id: 'AKIDEXAMPLE' } })),
    ) as ProfileConfigError;
    expect(error).toBeInstanceOf(ProfileConfigError);
    expect(error.message).toContain('`dev`');
    expect(error.message).toContain(CREDENTIALS);
    expect(error.message).toContain('aws_secret_access_key');
    expect(error.key).toBe('aws_secret_access_key');
    expect(error.message).not.toContain('AKIDEXAMPLE');
  });

  it('requires an exact credential_source name', () => {
    const ok = planProfile(fromFiles('r', { r: { role_arn: 'arn:r', credential_source: 'EcsContainer' } }));
    expect(ok.base).toEqual({ kind: 'credential-source', profileName: 'r', name: 'EcsContainer' });
    const error = thrownBy(() => planProfile(fromFiles('r', { r: { role_arn: 'arn:r', credential_source: 'environment' } })));
    expect(error).toBeInstanceOf(ProfileConfigError);
    expect((error as Error).message).toContain('Environment, Ec2InstanceMetadata, EcsContainer');
  });

  it('lists the profiles that exist when a source_profile is missing', () => {
    const error = thrownBy(() =>
      planProfile(fromFiles('a', { a: { role_arn: 'arn:a', source_profile: 'nope' }, z: keys })),
    ) as Error;
    expect(error).toBeInstanceOf(ProfileConfigError);
    expect(error.message).toContain('profiles that exist: a, z');
  });

  describe('a missing selected profile', () => {
    const profiles = { dev: keys, prod: keys };
    it('is not-found when it is default, implied or named', () => {
      for (const source of ['default', 'option', 'env'] as const) {
        const error = thrownBy(() => planProfile(fromFiles('default', profiles, {}, { profileNameSource: source })));
        expect(isNotFound(error)).toBe(true);
      }
    });
    it('is a real error listing the profiles when the user named another one', () => {
      for (const source of ['option', 'env'] as const) {
        const error = thrownBy(() => planProfile(fromFiles('staging', profiles, {}, { profileNameSource: source })));
        expect(error).toBeInstanceOf(ProfileNotFoundError);
        expect(isNotFound(error)).toBe(false);
        expect((error as Error).message).toContain('profiles that exist: dev, prod');
        expect((error as Error).message).toContain(CONFIG);
      }
    });
  });

  describe('a selected profile that exists but sets no credentials', () => {
    const profiles = { default: { region: 'us-west-2' }, staging: { region: 'eu-west-1' } };
    it('is not-found when it is default, implied or named', () => {
      for (const source of ['default', 'option', 'env'] as const) {
        const error = thrownBy(() => planProfile(fromFiles('default', profiles, {}, { profileNameSource: source })));
        expect(error).toBeInstanceOf(CredentialsNotFound);
      }
    });
    it('is a real error naming the profile and its file when the user named another one', () => {
      for (const source of ['option', 'env'] as const) {
        const error = thrownBy(() => planProfile(fromFiles('staging', profiles, {}, { profileNameSource: source })));
        expect(error).toBeInstanceOf(ProfileConfigError);
        expect(isNotFound(error)).toBe(false);
        expect((error as Error).message).toContain('Profile `staging`');
        expect((error as Error).message).toContain('sets no credentials');
        expect((error as Error).message).toContain(CONFIG);
      }
    });
  });

  describe("botocore's order when a profile sets several kinds of credentials", () => {
    const web = { role_arn: 'arn:web', web_identity_token_file: '/t.jwt' };
    const sso = { sso_account_id: '1', sso_role_name: 'r', sso_region: 'us-east-1', sso_start_url: 'https://x' };
    const proc = { credential_process: '/bin/creds --json' };
    const kindOf = (input: PlanInput) => planProfile(input).base.kind;

    it('role_arn (with a source) beats everything else in the selected profile', () => {
      const plan = planProfile(fromFiles('p', { p: { ...sso, ...proc, role_arn: 'arn:p', source_profile: 'k' }, k: keys }));
      expect(plan.roleHops).toHaveLength(1);
      expect(plan.base.kind).toBe('static');
    });
    it('web identity beats SSO, keys and process', () => {
      expect(kindOf(fromFiles('p', { p: { ...web, ...sso, ...proc } }, { p: keys }))).toBe('web-identity');
    });
    it('SSO beats keys and process', () => {
      expect(kindOf(fromFiles('p', { p: { ...sso, ...proc } }, { p: keys }))).toBe('sso');
    });
    it('keys from the credentials file beat credential_process', () => {
      expect(kindOf(fromFiles('p', { p: proc }, { p: keys }))).toBe('static');
    });
    it('credential_process beats keys from the config file', () => {
      expect(kindOf(fromFiles('p', { p: { ...proc, ...keys } }))).toBe('process');
    });
    it('a source profile with keys uses them over its own role_arn', () => {
      const plan = planProfile(
        fromFiles('a', { a: { role_arn: 'arn:a', source_profile: 'b' }, b: { role_arn: 'arn:b', source_profile: 'c' }, c: keys }, { b: keys }),
      );
      expect(plan.base).toMatchObject({ kind: 'static', profileName: 'b' });
      expect(plan.roleHops.map((h) => h.profileName)).toEqual(['a']);
    });
    it('a source profile may be a credential_process', () => {
      const plan = planProfile(fromFiles('a', { a: { role_arn: 'arn:a', source_profile: 'b' }, b: { ...proc, aws_account_id: '123' } }));
      expect(plan.base).toEqual({ kind: 'process', profileName: 'b', command: '/bin/creds --json', accountId: '123' });
    });
  });

  it('never shows a secret key when the plan is printed', () => {
    const plan = planProfile(fromFiles('k', { k: { ...keys, aws_session_token: 'SESSIONTOKENVALUE' } }));
    for (const text of [inspect(plan, { depth: 10 }), JSON.stringify(plan), String(plan.base.kind === 'static' && plan.base.credentials)]) {
      expect(text).not.toContain('SECRETKEYVALUE');
      expect(text).not.toContain('SESSIONTOKENVALUE');
    }
  });

  it('treats empty values as unset', () => {
    const error = thrownBy(() => planProfile(fromFiles('k', { k: { aws_access_key_id: 'A', aws_secret_access_key: '' } })));
    expect(error).toBeInstanceOf(ProfileConfigError);
  });

  it('plans an SSO base from an [sso-session] (start URL and region from the session) or from the legacy keys', () => {
    const session = planProfile(
      fromFiles('corp', { corp: { sso_session: 's', sso_account_id: '1', sso_role_name: 'r' } }, {}, {
        ssoSessions: { s: { sso_region: 'eu-west-1', sso_start_url: 'https://corp.awsapps.com/start' } },
      }),
    );
    expect(session.base).toEqual({
      kind: 'sso',
      profileName: 'corp',
      ssoSession: 's',
      ssoStartUrl: 'https://corp.awsapps.com/start',
      ssoRegion: 'eu-west-1',
      ssoAccountId: '1',
      ssoRoleName: 'r',
    });
    const legacy = planProfile(
      fromFiles('old', { old: { sso_start_url: 'https://old.awsapps.com/start', sso_region: 'us-east-2', sso_account_id: '2', sso_role_name: 'q' } }),
    );
    expect(legacy.base).toEqual({
      kind: 'sso',
      profileName: 'old',
      ssoStartUrl: 'https://old.awsapps.com/start',
      ssoRegion: 'us-east-2',
      ssoAccountId: '2',
      ssoRoleName: 'q',
    });
  });

  it('names the profile and the missing key when an SSO profile lacks sso_region or sso_start_url', () => {
    for (const [keys, missing] of [
      [{ sso_start_url: 'https://x', sso_account_id: '1', sso_role_name: 'r' }, 'sso_region'],
      [{ sso_region: 'us-east-1', sso_account_id: '1', sso_role_name: 'r' }, 'sso_start_url'],
    ] as const) {
      const error = thrownBy(() => planProfile(fromFiles('p', { p: keys })));
      expect(error).toBeInstanceOf(ProfileConfigError);
      expect((error as ProfileConfigError).key).toBe(missing);
      expect((error as Error).message).toContain('Profile `p`');
      expect((error as Error).message).toContain(missing);
    }
  });
});
