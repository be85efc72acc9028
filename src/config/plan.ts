import { makeCredentials, type Credentials } from '../credentials.js';
import { CredentialsNotFound } from '../errors.js';
import { describeProfiles, ProfileConfigError, ProfileCycleError, ProfileNotFoundError, ProfileSectionIgnoredError, ignoredSectionNote } from './errors.js';
import type { ProfileNameSource } from './files.js';
import { CREDENTIAL_SOURCES, KEY, type CredentialSourceName } from './keys.js';
import type { IgnoredProfileSection, Section, Sections } from './parse.js';
export { ProfileSectionIgnoredError } from './errors.js';

/**
 * Step 2 of shared-config resolution (pure, no I/O): turn the selected profile into one base
 * source followed by the roles to assume, in order. Building and running providers is step 3.
 *
 * Which credentials a profile yields when it sets several kinds follows botocore
 * (`create_credential_resolver` + `ProfileProviderBuilder.providers`):
 *   1. `role_arn` (unless `web_identity_token_file` is set) with `source_profile`/`credential_source`
 *   2. `web_identity_token_file` (+ `role_arn`)
 *   3. SSO (`sso_session` / `sso_*`), then `login_session` (`aws login`; our choice of place: next to SSO,
 *      the other source `aws … login` caches)
 *   4. static keys set in the credentials file
 *   5. `credential_process`
 *   6. static keys set in the config file
 * A source profile (reached through `source_profile`) that has static keys skips step 1, so its
 * keys win over its own `role_arn` (botocore `_resolve_credentials_from_profile`).
 *
 * Static keys, as botocore's SharedCredentialProvider/ConfigProvider and the Go SDK read them: the key
 * id and the secret come from one file's section (a pair split across the two files is an error), and
 * the session token (`aws_session_token`, else the legacy `aws_security_token`) only from that same
 * section. Without per-file views (pure use) the merged profile stands in for both.
 */

interface Origin {
  readonly profileName: string;
}

export type BaseSource =
  /** `credentials` is built with `makeCredentials`, so printing a plan never shows the secret. */
  | (Origin & { readonly kind: 'static'; readonly credentials: Credentials })
  | (Origin & { readonly kind: 'credential-source'; readonly name: CredentialSourceName })
  | (Origin & { readonly kind: 'web-identity'; readonly roleArn: string; readonly tokenFile: string; readonly roleSessionName?: string })
  | (Origin & { readonly kind: 'process'; readonly command: string; readonly accountId?: string })
  | (Origin & {
      readonly kind: 'sso';
      readonly ssoSession?: string;
      readonly ssoStartUrl: string;
      readonly ssoRegion: string;
      readonly ssoAccountId?: string;
      readonly ssoRoleName?: string;
    })
  | (Origin & { readonly kind: 'login'; readonly loginSession: string; readonly region?: string });

export interface RoleHop {
  /** The profile whose `role_arn` this is. */
  readonly profileName: string;
  readonly roleArn: string;
  readonly externalId?: string;
  readonly roleSessionName?: string;
  readonly durationSeconds?: number;
  readonly mfaSerial?: string;
}

export interface CredentialPlan {
  /** The selected profile. */
  readonly profileName: string;
  /** The selected profile's `region`; botocore uses it for every STS call of the chain. */
  readonly region?: string;
  readonly base: BaseSource;
  /** Roles to assume after the base, first to last. */
  readonly roleHops: readonly RoleHop[];
  /** Debug lines about settings the plan ignored (no values), for the caller's logger. */
  readonly notes?: readonly string[];
}

/** What `planProfile` needs; a `SharedConfig` from `loadSharedConfig` fits as is. */
export interface PlanInput {
  readonly profileName: string;
  /** How the name was chosen; a missing profile is only "not found" when it is `default`. @default 'option' */
  readonly profileNameSource?: ProfileNameSource;
  readonly profiles: Sections;
  readonly ssoSessions?: Sections;
  /** Per-file views: decide rule 4 vs 6 above and name the file in messages. Optional for pure use. */
  readonly configFileProfiles?: Sections;
  readonly credentialsFileProfiles?: Sections;
  readonly configPath?: string;
  readonly credentialsPath?: string;
  /** Profile headers the parser did not take as profiles, so "not found" can say which and why. */
  readonly ignoredProfiles?: readonly IgnoredProfileSection[];
}

const MIN_DURATION_SECONDS = 900;
const MAX_DURATION_SECONDS = 43_200;

/** Resolves the selected profile into a plan, or throws (see README "Shared config"). */
export function planProfile(input: PlanInput): CredentialPlan {
  return new Planner(input).plan();
}

class Planner {
  private readonly notes: string[] = [];

  constructor(private readonly input: PlanInput) {}

  plan(): CredentialPlan {
    const selected = this.input.profileName;
    let profile = this.input.profiles[selected];
    if (profile === undefined) throw this.missingSelected(selected);

    const visited: string[] = [];
    const hops: RoleHop[] = [];
    let name = selected;
    let base: BaseSource;
    for (;;) {
      visited.push(name);
      const isSource = visited.length > 1;
      if (isSource && hasStaticKeys(profile)) {
        base = this.baseOf(name, profile)!;
        break;
      }
      if (isRoleProfile(profile)) {
        const sourceProfile = value(profile, KEY.sourceProfile);
        const credentialSource = value(profile, KEY.credentialSource);
        if (sourceProfile !== undefined && credentialSource !== undefined) {
          throw this.configError(name, 'sets both source_profile and credential_source; keep only one', KEY.credentialSource);
        }
        if (sourceProfile === undefined && credentialSource === undefined) {
          throw this.configError(name, 'sets role_arn but neither source_profile nor credential_source; add one of them', KEY.sourceProfile);
        }
        hops.push(this.hopOf(name, profile));
        if (credentialSource !== undefined) {
          base = { kind: 'credential-source', profileName: name, name: this.credentialSourceOf(name, credentialSource) };
          break;
        }
        if (sourceProfile === name) {
          // botocore allows a profile to be its own source only to hold keys next to the role.
          if (!hasStaticKeys(profile)) throw new ProfileCycleError([name, name], this.where(name));
          base = this.baseOf(name, profile)!;
          break;
        }
        const next = this.input.profiles[sourceProfile!];
        if (next === undefined) {
          const ignored = this.ignoredSection(sourceProfile!);
          throw this.configError(
            name,
            `sets source_profile = ${sourceProfile}, but no profile of that name exists (${this.existing()})` +
              (ignored !== undefined ? `. ${ignoredSectionNote(ignored).replace(/\.$/, '')}` : ''),
            KEY.sourceProfile,
          );
        }
        if (visited.includes(sourceProfile!)) throw new ProfileCycleError([...visited, sourceProfile!], this.where(name));
        name = sourceProfile!;
        profile = next;
        continue;
      }
      const found = this.baseOf(name, profile);
      if (found === undefined) throw this.noCredentials(name, isSource ? visited[visited.length - 2] : undefined);
      base = found;
      break;
    }
    hops.reverse();
    const region = value(this.input.profiles[selected]!, KEY.region);
    return {
      profileName: selected,
      ...(region !== undefined ? { region } : {}),
      base,
      roleHops: hops,
      ...(this.notes.length > 0 ? { notes: this.notes } : {}),
    };
  }

  /** Base credentials of one profile in botocore's order (rules 2-6), or undefined if it has none. */
  private baseOf(name: string, profile: Section): BaseSource | undefined {
    const tokenFile = value(profile, KEY.webIdentityTokenFile);
    if (tokenFile !== undefined) {
      const roleArn = value(profile, KEY.roleArn);
      if (roleArn === undefined) {
        throw this.configError(name, 'sets web_identity_token_file but not role_arn; add the role to assume', KEY.roleArn);
      }
      const roleSessionName = value(profile, KEY.roleSessionName);
      return { kind: 'web-identity', profileName: name, roleArn, tokenFile, ...(roleSessionName !== undefined ? { roleSessionName } : {}) };
    }
    const sso = this.ssoOf(name, profile);
    if (sso) return sso;
    const loginSession = value(profile, KEY.loginSession);
    if (loginSession !== undefined) {
      const region = value(profile, KEY.region);
      return { kind: 'login', profileName: name, loginSession, ...(region !== undefined ? { region } : {}) };
    }
    const keysInCredentialsFile =
      this.input.credentialsFileProfiles === undefined || hasStaticKeys(this.input.credentialsFileProfiles[name]);
    if (keysInCredentialsFile && hasStaticKeys(profile)) return this.staticOf(name, profile);
    const command = value(profile, KEY.credentialProcess);
    if (command !== undefined) {
      const accountId = value(profile, KEY.accountId);
      return { kind: 'process', profileName: name, command, ...(accountId !== undefined ? { accountId } : {}) };
    }
    return hasStaticKeys(profile) ? this.staticOf(name, profile) : undefined;
  }

  private staticOf(name: string, profile: Section): BaseSource {
    const { section, file, otherSection, otherFile } = this.keySection(name, profile);
    const accessKeyId = value(section, KEY.accessKeyId);
    const secretAccessKey = value(section, KEY.secretAccessKey);
    if (accessKeyId === undefined || secretAccessKey === undefined) {
      const [present, missing] =
        accessKeyId === undefined ? [KEY.secretAccessKey, KEY.accessKeyId] : [KEY.accessKeyId, KEY.secretAccessKey];
      if (otherSection !== undefined && value(otherSection, missing) !== undefined) {
        // botocore and Go read the pair from one file; gluing halves would sign with a key pair nobody issued.
        throw new ProfileConfigError(
          name,
          `Profile \`${name}\` sets ${present} in ${file} but ${missing} in ${otherFile}; ` +
            'the two keys of a pair must be in the same file: move both to one file (usually the credentials file).',
          missing,
        );
      }
      throw new ProfileConfigError(
        name,
        `Profile \`${name}\` (${this.where(name, present)}) sets ${present} but not ${missing}; set both or neither.`,
        missing,
      );
    }
    const sessionToken = tokenOf(section);
    if (otherSection !== undefined && tokenOf(otherSection) !== undefined) {
      const key = value(otherSection, KEY.sessionToken) !== undefined ? KEY.sessionToken : KEY.legacySessionToken;
      this.notes.push(
        `profile \`${name}\`: ${key} in ${otherFile} ignored, because the keys it would go with are in ${file} (a token is read only next to its keys)`,
      );
    }
    const accountId = value(profile, KEY.accountId);
    return {
      kind: 'static',
      profileName: name,
      credentials: makeCredentials({ accessKeyId, secretAccessKey, sessionToken, accountId }),
    };
  }

  /**
   * The section of one file that holds the profile's static keys (the credentials file's if it has
   * either key), and the other file's section of the same name. With no per-file views, the merged profile.
   */
  private keySection(name: string, merged: Section): { section: Section; file?: string; otherSection?: Section; otherFile?: string } {
    const { configFileProfiles, credentialsFileProfiles } = this.input;
    if (configFileProfiles === undefined || credentialsFileProfiles === undefined) return { section: merged };
    const credentials = credentialsFileProfiles[name];
    const config = configFileProfiles[name];
    const credentialsFile = this.input.credentialsPath ?? 'the credentials file';
    const configFile = this.input.configPath ?? 'the config file';
    if (hasStaticKeys(credentials) || config === undefined) {
      return { section: credentials ?? merged, file: credentialsFile, otherSection: config, otherFile: configFile };
    }
    return { section: config, file: configFile, otherSection: credentials, otherFile: credentialsFile };
  }

  private hopOf(name: string, profile: Section): RoleHop {
    const optional = (key: string, field: keyof RoleHop) => {
      const v = value(profile, key);
      return v === undefined ? {} : { [field]: v };
    };
    const duration = value(profile, KEY.durationSeconds);
    let durationSeconds: number | undefined;
    if (duration !== undefined) {
      durationSeconds = /^\d+$/.test(duration) ? Number(duration) : Number.NaN;
      if (!(durationSeconds >= MIN_DURATION_SECONDS && durationSeconds <= MAX_DURATION_SECONDS)) {
        throw this.configError(
          name,
          `sets duration_seconds = ${duration}; it must be a whole number of seconds from ${MIN_DURATION_SECONDS} to ${MAX_DURATION_SECONDS}`,
          KEY.durationSeconds,
        );
      }
    }
    return {
      profileName: name,
      roleArn: value(profile, KEY.roleArn)!,
      ...optional(KEY.externalId, 'externalId'),
      ...optional(KEY.roleSessionName, 'roleSessionName'),
      ...(durationSeconds !== undefined ? { durationSeconds } : {}),
      ...optional(KEY.mfaSerial, 'mfaSerial'),
    };
  }

  private credentialSourceOf(name: string, source: string): CredentialSourceName {
    const known = CREDENTIAL_SOURCES.find((s) => s === source);
    if (known === undefined) {
      throw this.configError(
        name,
        `sets credential_source = ${source}, which is not one of ${CREDENTIAL_SOURCES.join(', ')} (spelled exactly so)`,
        KEY.credentialSource,
      );
    }
    return known;
  }

  /** Same validation as smithy-rs `sso_from_profile` (the conformance cases encode it). */
  private ssoOf(name: string, profile: Section): BaseSource | undefined {
    const sessionName = value(profile, KEY.ssoSession);
    const accountId = value(profile, KEY.ssoAccountId);
    const roleName = value(profile, KEY.ssoRoleName);
    let startUrl = value(profile, KEY.ssoStartUrl);
    let region = value(profile, KEY.ssoRegion);
    if ([sessionName, accountId, roleName, startUrl, region].every((v) => v === undefined)) return undefined;
    if (sessionName !== undefined) {
      for (const key of [KEY.ssoStartUrl, KEY.ssoRegion]) {
        if (value(profile, key) !== undefined) {
          throw this.configError(name, `sets ${key} next to sso_session; move it into the [sso-session ${sessionName}] section`, key);
        }
      }
      const session = this.input.ssoSessions?.[sessionName];
      if (session === undefined) {
        throw this.configError(name, `sets sso_session = ${sessionName}, but there is no [sso-session ${sessionName}] section`, KEY.ssoSession);
      }
      startUrl = value(session, KEY.ssoStartUrl);
      region = value(session, KEY.ssoRegion);
    }
    if ((accountId === undefined) !== (roleName === undefined)) {
      const [set, unset] = accountId === undefined ? [KEY.ssoRoleName, KEY.ssoAccountId] : [KEY.ssoAccountId, KEY.ssoRoleName];
      throw this.configError(name, `sets ${set} but not ${unset}; set both`, unset);
    }
    for (const [key, v] of [[KEY.ssoRegion, region], [KEY.ssoStartUrl, startUrl]] as const) {
      if (v === undefined) throw this.configError(name, `uses SSO but ${key} is not set`, key);
    }
    return {
      kind: 'sso',
      profileName: name,
      ...(sessionName !== undefined ? { ssoSession: sessionName } : {}),
      ssoStartUrl: startUrl!,
      ssoRegion: region!,
      ...(accountId !== undefined ? { ssoAccountId: accountId, ssoRoleName: roleName! } : {}),
    };
  }

  // ---- errors ---------------------------------------------------------------------------------

  private missingSelected(name: string): Error {
    const files = this.files();
    const ignored = this.ignoredSection(name);
    if (ignored !== undefined) {
      // Even for `default`: a header meant for it exists, so "no credentials here" would hide the mistake.
      return new ProfileSectionIgnoredError(name, Object.keys(this.input.profiles).sort(), files, ignored);
    }
    if (name === 'default') {
      // botocore: no default profile is "no credentials here", whether implied or named.
      return new CredentialsNotFound(`No \`default\` profile in ${files}.`, { providerName: 'ini' });
    }
    return new ProfileNotFoundError(name, Object.keys(this.input.profiles).sort(), files);
  }

  private noCredentials(name: string, referencedBy: string | undefined): Error {
    const what = 'aws_access_key_id + aws_secret_access_key, role_arn, web_identity_token_file, credential_process or sso_session';
    if (referencedBy === undefined && name === 'default') {
      // botocore: a `default` profile without credentials is "no credentials here", whether implied or named.
      return new CredentialsNotFound(`Profile \`${name}\` (${this.where(name)}) sets no credentials (${what}).`, {
        providerName: 'ini',
      });
    }
    // A profile the user named (option or AWS_PROFILE) must not fall through to another identity.
    const problem = referencedBy === undefined ? 'sets no credentials' : `is the source_profile of \`${referencedBy}\` but sets no credentials`;
    return this.configError(name, `${problem} (${what})`);
  }

  private configError(name: string, problem: string, key?: string): ProfileConfigError {
    return new ProfileConfigError(name, `Profile \`${name}\` (${this.where(name, key)}) ${problem}.`, key);
  }

  private files(): string {
    const { configPath, credentialsPath } = this.input;
    const paths = [configPath, credentialsPath].filter((p): p is string => p !== undefined);
    return paths.length ? paths.join(' or ') : 'the shared config files';
  }

  /** `in /home/u/.aws/credentials`: the file that set `key`, else the file(s) defining the profile. */
  private where(name: string, key?: string): string {
    const { configPath, credentialsPath, configFileProfiles, credentialsFileProfiles } = this.input;
    const inCredentials = credentialsPath !== undefined && credentialsFileProfiles?.[name] !== undefined;
    const inConfig = configPath !== undefined && configFileProfiles?.[name] !== undefined;
    if (key !== undefined && inCredentials && credentialsFileProfiles![name]![key] !== undefined) return `in ${credentialsPath}`;
    if (key !== undefined && inConfig && configFileProfiles![name]![key] !== undefined) return `in ${configPath}`;
    const paths = [inConfig ? configPath : undefined, inCredentials ? credentialsPath : undefined].filter(Boolean);
    return paths.length ? `in ${paths.join(' and ')}` : 'in the shared config files';
  }

  private ignoredSection(name: string): IgnoredProfileSection | undefined {
    return this.input.ignoredProfiles?.find((s) => s.names.includes(name));
  }

  private existing(): string {
    const names = Object.keys(this.input.profiles).sort();
    return describeProfiles(names);
  }
}

/** A key's value; an empty value counts as unset. */
function value(profile: Section, key: string): string | undefined {
  const v = profile[key];
  return v === '' ? undefined : v;
}

/** `aws_session_token`, else botocore's legacy `aws_security_token`. */
function tokenOf(section: Section): string | undefined {
  return value(section, KEY.sessionToken) ?? value(section, KEY.legacySessionToken);
}

function hasStaticKeys(profile: Section | undefined): boolean {
  return profile !== undefined && (value(profile, KEY.accessKeyId) !== undefined || value(profile, KEY.secretAccessKey) !== undefined);
}

function isRoleProfile(profile: Section): boolean {
  return value(profile, KEY.roleArn) !== undefined && value(profile, KEY.webIdentityTokenFile) === undefined;
}
