import { systemClock } from '../../clock.js';
import { CredentialsError, CredentialsNotFound } from '../../errors.js';
import { FileReadError, MAX_TOKEN_FILE_BYTES, readFileSafe } from '../../fs-read.js';
import type { RefreshingProvider } from '../../refreshing.js';
import { optionError } from './errors.js';
import { defaultSessionName, sessionProvider, stsClientFor, type RefreshTuning, type StsProviderOptions, type StsSessionProvider } from './provider.js';
import { webIdentityPlan, type WebIdentityParameters } from './web-identity.js';

export interface TokenFileOptions extends StsProviderOptions, Partial<WebIdentityParameters> {
  /** Path of the token file. @default `AWS_WEB_IDENTITY_TOKEN_FILE` */
  readonly webIdentityTokenFile?: string;
  /** `roleArn` defaults to `AWS_ROLE_ARN`; `roleSessionName` to `AWS_ROLE_SESSION_NAME`, else `credchain-<epoch ms>`. */
  readonly roleArn?: string;
  /** Environment to read the three variables from. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

const NAME = 'token-file';

/** Thrown when the configured token file cannot be used: names the path and why, never the token. */
export class WebIdentityTokenFileError extends CredentialsError {
  override name = 'WebIdentityTokenFileError';
  constructor(
    readonly path: string,
    why: string,
    cause?: unknown,
  ) {
    super(`${NAME}: cannot use the web identity token file ${path}: ${why}`, { providerName: NAME, cause });
  }
}

/**
 * Web identity from a token file (EKS IRSA, other OIDC setups): reads `AWS_WEB_IDENTITY_TOKEN_FILE`,
 * `AWS_ROLE_ARN` and `AWS_ROLE_SESSION_NAME` (options win), and reads the file again on every
 * renewal because Kubernetes rotates it. No token file configured: `CredentialsNotFound`, so a chain
 * moves on. A token file without a role ARN, or a file missing, unreadable or empty: a real error.
 */
export function fromTokenFile(options: TokenFileOptions & { readonly refresh: false }): StsSessionProvider;
export function fromTokenFile(options?: TokenFileOptions & { readonly refresh?: RefreshTuning }): RefreshingProvider;
export function fromTokenFile(options?: TokenFileOptions): StsSessionProvider;
export function fromTokenFile(options: TokenFileOptions = {}): StsSessionProvider | RefreshingProvider {
  if (options === null || typeof options !== 'object') throw optionError(NAME, 'fromTokenFile', 'expects an options object');
  const generatedName = defaultSessionName(options.now ?? systemClock);
  // The client reads AWS_REGION, AWS_ENDPOINT_URL_STS... from the same environment as the token settings.
  const client = stsClientFor(options, options.env);

  return sessionProvider({
    name: NAME,
    options,
    client,
    plan: async () => {
      const env = options.env ?? process.env;
      const path = nonEmpty(options.webIdentityTokenFile) ?? nonEmpty(env.AWS_WEB_IDENTITY_TOKEN_FILE);
      if (path === undefined) throw new CredentialsNotFound(`${NAME}: AWS_WEB_IDENTITY_TOKEN_FILE is not set`, { providerName: NAME });
      const roleArn = nonEmpty(options.roleArn) ?? nonEmpty(env.AWS_ROLE_ARN);
      // As botocore: a token file without a role is a misconfiguration, not "try the next provider".
      if (roleArn === undefined)
        throw new CredentialsError(`${NAME}: the web identity token file ${path} is configured but no role is: set AWS_ROLE_ARN or the roleArn option`, {
          providerName: NAME,
        });
      const roleSessionName = nonEmpty(options.roleSessionName) ?? nonEmpty(env.AWS_ROLE_SESSION_NAME) ?? generatedName;
      return webIdentityPlan(NAME, client, { ...options, roleArn, roleSessionName }, await readToken(path));
    },
  });
}

async function readToken(path: string): Promise<string> {
  let text: string;
  try {
    text = (await readFileSafe(path, MAX_TOKEN_FILE_BYTES)).text;
  } catch (error) {
    throw new WebIdentityTokenFileError(path, error instanceof FileReadError ? error.reason : 'read failed', error);
  }
  // Surrounding whitespace (a trailing newline from `echo`) is never part of a JWT.
  const token = text.trim();
  if (token === '') throw new WebIdentityTokenFileError(path, 'it is empty');
  return token;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
