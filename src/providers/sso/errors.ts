import { CredentialsError } from '../../errors.js';

const PROVIDER = 'sso';

/** The cached SSO access token is missing, unreadable, malformed or expired: the user must log in again. */
export class SsoTokenError extends CredentialsError {
  override name = 'SsoTokenError';
  readonly tokenFile: string;

  constructor(message: string, tokenFile: string, cause?: unknown) {
    super(message, { providerName: PROVIDER, cause });
    this.tokenFile = tokenFile;
  }
}

/** The SSO portal did not give role credentials (HTTP error, network failure, unusable answer). */
export class SsoPortalError extends CredentialsError {
  override name = 'SsoPortalError';
  /** The HTTP status, when the portal answered. */
  readonly status: number | undefined;

  constructor(message: string, status: number | undefined, cause?: unknown) {
    super(message, { providerName: PROVIDER, cause });
    this.status = status;
  }
}
