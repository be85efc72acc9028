import { createHash } from 'node:crypto';
import type http from 'node:http';
import path from 'node:path';
import { systemClock, type Clock } from '../../clock.js';
import { homeDirectory, type Env } from '../../config/files.js';
import { makeCredentials, type CredentialProvider, type Credentials } from '../../credentials.js';
import { CredentialsError } from '../../errors.js';
import { FileReadError, MAX_TOKEN_FILE_BYTES, readFileSafe } from '../../fs-read.js';
import { requestJson } from '../../http/json.js';
import { named } from '../../provider.js';
import { SsoPortalError, SsoTokenError } from './errors.js';
import { ssoAccessTokenWithRefresh } from './oidc.js';
import type { Logger } from '../../logger.js';

export { SsoPortalError, SsoTokenError } from './errors.js';

/**
 * `fromSso`: role credentials from the IAM Identity Center (SSO) portal, with the access token that
 * `aws sso login` left in `~/.aws/sso/cache`, as the AWS CLI v2 and SDKs do. For an `sso-session`
 * profile, a token within 5 minutes of expiry is refreshed with SSO-OIDC CreateToken and written back
 * (oidc.ts); a legacy profile's token is not, as in the CLI. A missing or expired token is a real
 * error telling the user to log in again. The token file is read at every call, so a new login is
 * used at the next renewal.
 */

const PROVIDER = 'sso';
const DEFAULT_TIMEOUT_MS = 10_000;
/** A portal answer holds four short fields; anything larger is not one. */
const MAX_BODY_BYTES = 64 * 1024;

export interface FromSsoOptions {
  readonly ssoStartUrl: string;
  readonly ssoRegion: string;
  readonly ssoAccountId: string;
  readonly ssoRoleName: string;
  /** The `[sso-session name]` in use: the token cache file is named after it, not after the start URL. */
  readonly ssoSession?: string;
  /** The profile being resolved, for the `aws sso login --profile <name>` advice in errors. */
  readonly profileName?: string;
  /** Portal base URL. @default `https://portal.sso.<ssoRegion>.amazonaws.com` */
  readonly endpoint?: string;
  /** SSO-OIDC base URL, for token refresh. @default `https://oidc.<ssoRegion>.amazonaws.com` */
  readonly oidcEndpoint?: string;
  /** Token refresh warnings (never with a token). @default silent */
  readonly logger?: Logger;
  /** Where the token cache lives. @default `<home>/.aws/sso/cache` (home from HOME, USERPROFILE, …) */
  readonly tokenCacheDir?: string;
  /** Environment used to find the home directory. @default process.env */
  readonly env?: Env;
  /** Clock for the token's expiry. @default Date.now */
  readonly now?: Clock;
  /** Deadline of the portal request. @default 10_000 */
  readonly timeoutMs?: number;
  readonly agent?: http.Agent;
}

/**
 * The token cache file: the SHA-1 (hex) of the sso-session name, or of the start URL for a
 * legacy profile without `sso_session` (botocore `SSOTokenLoader._generate_cache_key`).
 */
export function ssoTokenCacheFile(key: { ssoSession?: string; ssoStartUrl: string }, cacheDir: string): string {
  const hash = createHash('sha1').update(key.ssoSession ?? key.ssoStartUrl, 'utf8').digest('hex');
  return path.join(cacheDir, `${hash}.json`);
}

/** `portal.sso.<region>.amazonaws.com`; the region becomes part of a host name, so it must look like one. */
export function ssoPortalEndpoint(region: string): string {
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(region)) {
    throw new CredentialsError(`sso_region = ${region} is not a region name (like us-east-1).`, { providerName: PROVIDER });
  }
  return `https://portal.sso.${region}.amazonaws.com`;
}

export function fromSso(options: FromSsoOptions): CredentialProvider {
  const now = options.now ?? systemClock;
  const login = `run \`aws sso login${options.profileName !== undefined ? ` --profile ${options.profileName}` : ''}\``;
  const who = `role ${options.ssoRoleName} in account ${options.ssoAccountId}`;

  const readToken = async (): Promise<string> => {
    const cacheDir = options.tokenCacheDir ?? path.join(homeDirectory(options.env ?? process.env), '.aws', 'sso', 'cache');
    const file = ssoTokenCacheFile(options, cacheDir);
    const of = options.ssoSession !== undefined ? `sso-session \`${options.ssoSession}\`` : `start URL ${options.ssoStartUrl}`;
    const fail = (problem: string, cause?: unknown) => new SsoTokenError(`The SSO token for ${of} ${problem}; ${login}.`, file, cause);
    let text: string;
    try {
      text = (await readFileSafe(file, MAX_TOKEN_FILE_BYTES)).text;
    } catch (error) {
      const problem = error instanceof FileReadError ? error : undefined;
      throw fail(problem?.problem === 'missing' ? `was not found (no ${file})` : `could not be read from ${file} (${problem?.reason ?? 'read failed'})`, error);
    }
    let cached: unknown;
    try {
      cached = JSON.parse(text);
    } catch {
      // The parser's message quotes the text, which holds the token: leave it out.
      throw fail(`in ${file} is not valid JSON`);
    }
    const { accessToken, expiresAt } = (cached ?? {}) as { accessToken?: unknown; expiresAt?: unknown };
    if (typeof accessToken !== 'string' || accessToken === '') throw fail(`in ${file} has no accessToken`);
    if (typeof expiresAt !== 'string') throw fail(`in ${file} has no expiresAt`);
    const expiresMs = Date.parse(expiresAt);
    if (Number.isNaN(expiresMs)) throw fail(`in ${file} has an expiresAt that is not a date`);
    if (options.ssoSession !== undefined) {
      const { oidcEndpoint: endpoint, timeoutMs, agent, logger } = options;
      const extra = { ...(endpoint !== undefined ? { endpoint } : {}), ...(timeoutMs !== undefined ? { timeoutMs } : {}), ...(agent !== undefined ? { agent } : {}), ...(logger !== undefined ? { logger } : {}) };
      return ssoAccessTokenWithRefresh({ file, cached: cached as Record<string, unknown>, accessToken, expiresMs, ssoRegion: options.ssoRegion, now, fail, ...extra });
    }
    if (expiresMs <= now()) throw fail(`in ${file} expired at ${new Date(expiresMs).toISOString()}`);
    return accessToken;
  };

  const fetchCredentials = async (token: string): Promise<Credentials> => {
    const base = (options.endpoint ?? ssoPortalEndpoint(options.ssoRegion)).replace(/\/+$/, '');
    const url = new URL(`${base}/federation/credentials`);
    url.searchParams.set('account_id', options.ssoAccountId);
    url.searchParams.set('role_name', options.ssoRoleName);
    const where = `the SSO portal (${url.origin})`;
    const { response, body } = await requestJson(
      {
        url,
        method: 'GET',
        headers: { 'x-amz-sso_bearer_token': token, accept: 'application/json' },
        timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        maxBodyBytes: MAX_BODY_BYTES,
        ...(options.agent !== undefined ? { agent: options.agent } : {}),
      },
      (reason, cause) => new SsoPortalError(`Could not get credentials for ${who} from ${where}: the request failed (${reason}).`, undefined, cause),
    );
    const { status } = response;
    if (status === 401 || status === 403) {
      throw new SsoPortalError(
        `${where} answered HTTP ${status} for ${who}: the SSO token was rejected (expired, revoked, or no access to this role); ${login}.`,
        status,
      );
    }
    if (status !== 200) {
      // The body is never quoted: it may echo the request or hold credentials.
      throw new SsoPortalError(`${where} answered HTTP ${status} for ${who}; no credentials were returned.`, status);
    }
    const role = body?.roleCredentials as Record<string, unknown> | null | undefined;
    const field = (name: string) => (typeof role?.[name] === 'string' && role[name] !== '' ? (role[name] as string) : undefined);
    const accessKeyId = field('accessKeyId');
    const secretAccessKey = field('secretAccessKey');
    const expirationMs = role?.expiration;
    if (accessKeyId === undefined || secretAccessKey === undefined || typeof expirationMs !== 'number' || !Number.isFinite(expirationMs)) {
      throw new SsoPortalError(
        `${where} answered HTTP 200 for ${who}, but not with roleCredentials {accessKeyId, secretAccessKey, sessionToken, expiration}.`,
        status,
      );
    }
    return makeCredentials({
      accessKeyId,
      secretAccessKey,
      sessionToken: field('sessionToken'),
      expiration: new Date(expirationMs),
      accountId: options.ssoAccountId,
    });
  };

  return named(PROVIDER, async () => fetchCredentials(await readToken()));
}
