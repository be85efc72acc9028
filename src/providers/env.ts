import { makeCredentials, type CredentialProvider } from '../credentials.js';
import { CredentialsError, CredentialsNotFound } from '../errors.js';
import { named } from '../provider.js';

export interface FromEnvOptions {
  /** The environment to read. @default process.env, read at each call */
  env?: NodeJS.ProcessEnv;
}

const PROVIDER = 'env';

/**
 * `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_CREDENTIAL_EXPIRATION`
 * (ISO 8601) and `AWS_ACCOUNT_ID`, read at call time. Blank variables count as unset, as in the SDKs.
 * The legacy `AWS_SECURITY_TOKEN` stands in for `AWS_SESSION_TOKEN` when that is unset (botocore
 * reads it first; credchain prefers the name the SDKs standardized on).
 */
export function fromEnv(options: FromEnvOptions = {}): CredentialProvider {
  return named(PROVIDER, async () => {
    const env = options.env ?? process.env;
    const read = (name: string) => {
      const value = env[name]?.trim();
      return value ? value : undefined;
    };
    const accessKeyId = read('AWS_ACCESS_KEY_ID');
    const secretAccessKey = read('AWS_SECRET_ACCESS_KEY');
    if (!accessKeyId && !secretAccessKey) {
      throw new CredentialsNotFound('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set', { providerName: PROVIDER });
    }
    if (!accessKeyId || !secretAccessKey) {
      const [set, missing] = accessKeyId
        ? ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']
        : ['AWS_SECRET_ACCESS_KEY', 'AWS_ACCESS_KEY_ID'];
      throw new CredentialsError(`${set} is set but ${missing} is not: set both, or neither`, { providerName: PROVIDER });
    }
    const expirationText = read('AWS_CREDENTIAL_EXPIRATION');
    let expiration: Date | undefined;
    if (expirationText) {
      expiration = new Date(expirationText);
      if (!/^\d{4}-\d{2}-\d{2}T/.test(expirationText) || Number.isNaN(expiration.getTime())) {
        throw new CredentialsError('AWS_CREDENTIAL_EXPIRATION is not an ISO 8601 date-time (e.g. 2026-01-01T00:00:00Z)', {
          providerName: PROVIDER,
        });
      }
    }
    // botocore still reads the legacy AWS_SECURITY_TOKEN; here only when AWS_SESSION_TOKEN is unset.
    const sessionToken = read('AWS_SESSION_TOKEN') ?? read('AWS_SECURITY_TOKEN');
    const accountId = read('AWS_ACCOUNT_ID');
    return makeCredentials({
      accessKeyId,
      secretAccessKey,
      ...(sessionToken ? { sessionToken } : {}),
      ...(expiration ? { expiration } : {}),
      ...(accountId ? { accountId } : {}),
    });
  });
}
