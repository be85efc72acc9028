import { CredentialsError, shortList, shortText } from '../errors.js';

const PROVIDER = 'ini';

/**
 * A line of a shared config/credentials file that is neither a section, a property, a
 * continuation nor a comment. Names the file and the line; never quotes the line (it may hold a key).
 */
export class ConfigParseError extends CredentialsError {
  override name = 'ConfigParseError';
  readonly filePath: string;
  readonly lineNumber: number;

  constructor(filePath: string, lineNumber: number, problem: string) {
    super(`Could not parse ${filePath}, line ${lineNumber}: ${problem}`, { providerName: PROVIDER });
    this.filePath = filePath;
    this.lineNumber = lineNumber;
  }
}

/** A config/credentials file that exists but cannot be read (permissions, a directory, ...). */
export class ConfigFileError extends CredentialsError {
  override name = 'ConfigFileError';
  readonly filePath: string;
  readonly code: string | undefined;

  constructor(filePath: string, reason: string, options: { code?: string; cause?: unknown } = {}) {
    super(`Could not read ${filePath}: ${reason}`, { providerName: PROVIDER, cause: options.cause });
    this.filePath = filePath;
    this.code = options.code;
  }
}

/** `profiles that exist: a, b, c, d, e and 199995 more`, or `no profiles are defined`: short on any input. */
export function describeProfiles(names: readonly string[]): string {
  return names.length ? `profiles that exist: ${shortList(names)}` : 'no profiles are defined';
}

/** The user named a profile (option or AWS_PROFILE) that neither file defines. */
export class ProfileNotFoundError extends CredentialsError {
  override name = 'ProfileNotFoundError';
  readonly profileName: string;
  readonly availableProfiles: readonly string[];

  constructor(profileName: string, availableProfiles: readonly string[], where: string) {
    super(`Profile \`${shortText(profileName)}\` was not found in ${where} (${describeProfiles(availableProfiles)}).`, { providerName: PROVIDER });
    this.profileName = profileName;
    this.availableProfiles = availableProfiles;
  }
}

/** A profile that sets something wrong or contradictory (partial keys, both sources, bad value...). */
export class ProfileConfigError extends CredentialsError {
  override name = 'ProfileConfigError';
  readonly profileName: string;
  readonly key: string | undefined;

  constructor(profileName: string, message: string, key?: string) {
    super(message, { providerName: PROVIDER });
    this.profileName = profileName;
    this.key = key;
  }
}

/** `source_profile` references that loop back (`a -> b -> a`). */
export class ProfileCycleError extends ProfileConfigError {
  override name = 'ProfileCycleError';
  readonly cycle: readonly string[];

  constructor(cycle: readonly string[], where: string) {
    super(
      cycle[0] ?? '',
      `The source_profile settings form a cycle: ${cycle.join(' -> ')} (${where}). ` +
        'Point the last source_profile at a profile with credentials.',
      'source_profile',
    );
    this.cycle = cycle;
  }
}

/**
 * A profile whose credentials come from something credchain cannot do. No longer thrown since SSO
 * profiles are supported (`fromSso`); kept because the package root exports it.
 * @deprecated
 */
export class UnsupportedProfileError extends ProfileConfigError {
  override name = 'UnsupportedProfileError';
}

/** A `[...]` header that looked like a profile but was not taken as one (see `parseSharedFile`). */
export interface IgnoredProfileSection {
  /** Names a user may have meant: the name as written and, if different, the one the AWS CLI reads (quotes removed). */
  readonly names: readonly string[];
  /** The name the AWS CLI gives this section, when it takes it as a profile. */
  readonly awsCliName: string | undefined;
  readonly filePath: string;
  readonly lineNumber: number;
  readonly reason: string;
}

/**
 * The selected (or a source) profile is not defined, but a section header for that name was not
 * taken as a profile (a name the cross-SDK rules reject, such as one with spaces or quotes, which
 * the AWS CLI accepts). Still a `ProfileNotFoundError`; the message names the file and line.
 */
export class ProfileSectionIgnoredError extends ProfileNotFoundError {
  override name = 'ProfileSectionIgnoredError';
  readonly filePath: string;
  readonly lineNumber: number;

  constructor(profileName: string, availableProfiles: readonly string[], where: string, ignored: IgnoredProfileSection) {
    super(profileName, availableProfiles, where);
    this.filePath = ignored.filePath;
    this.lineNumber = ignored.lineNumber;
    this.message += ` ${ignoredSectionNote(ignored)}`;
  }
}

export function ignoredSectionNote(ignored: IgnoredProfileSection): string {
  const cli = ignored.awsCliName !== undefined ? `; the AWS CLI reads it as profile \`${ignored.awsCliName}\`, credchain follows the cross-SDK profile rules` : '';
  return (
    `${ignored.filePath}, line ${ignored.lineNumber} has a section header for it that was not taken as a profile, because ${ignored.reason}${cli}. ` +
    'Rename the section (e.g. dashes instead of spaces, no quotes) and use the new name.'
  );
}
