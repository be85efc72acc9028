import { CredentialsError, messageOf } from '../../errors.js';

/**
 * A profile was planned fine but getting its credentials failed: the source it names found
 * nothing, a role could not be assumed, the command failed... Names the profile and the file(s)
 * defining it, then the cause's own message (secret-free by contract); the cause is kept, and its
 * `code` (e.g. an STS error code) is copied so callers need not dig.
 */
export class ProfileCredentialsError extends CredentialsError {
  override name = 'ProfileCredentialsError';
  readonly profileName: string;
  readonly code: string | undefined;

  constructor(profileName: string, where: string, what: string, cause: unknown) {
    super(`Profile \`${profileName}\` (${where}): ${what}: ${messageOf(cause)}`, { providerName: 'ini', cause });
    this.profileName = profileName;
    const code = (cause as { code?: unknown } | null)?.code;
    this.code = typeof code === 'string' ? code : undefined;
  }
}
