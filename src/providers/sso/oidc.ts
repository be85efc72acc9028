import type http from 'node:http';
import type { Clock } from '../../clock.js';
import { writeFileAtomic } from '../../atomic-write.js';
import { CredentialsError } from '../../errors.js';
import { SAFE_ERROR_CODE, requestJson } from '../../http/json.js';
import { headerValue } from '../../http/request.js';
import { toFullLogger, type Logger } from '../../logger.js';

/**
 * SSO token refresh for `sso-session` profiles, as the AWS CLI v2 (botocore `SSOTokenProvider`) and
 * the JS SDK (`token-providers` `fromSso`) do it: when the cached access token is within 5 minutes of
 * expiry, and the cache holds `refreshToken`, `clientId`, `clientSecret` and a `registrationExpiresAt`
 * still in the future, SSO-OIDC `CreateToken` (`grant_type=refresh_token`) gives a new access token,
 * which is written back to the same cache file (atomically, 0600, every other field kept).
 * A refresh that fails leaves the still-valid token in use; only a token past expiry is an error.
 */

/** Refresh when the token has this little left (JS SDK `EXPIRE_WINDOW_MS`; botocore uses 15 minutes). */
export const SSO_REFRESH_WINDOW_MS = 5 * 60_000;
/** After a failed refresh, the next attempt for that session waits this long (JS SDK: 30 s; botocore: 60 s). */
export const SSO_REFRESH_RETRY_MS = 30_000;
const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_BODY_BYTES = 256 * 1024;

/** `oidc.<region>.amazonaws.com`; the region becomes part of a host name, so it must look like one. */
export function ssoOidcEndpoint(region: string): string {
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(region)) {
    throw new CredentialsError(`sso_region = ${region} is not a region name (like us-east-1).`, { providerName: 'sso' });
  }
  return `https://oidc.${region}.amazonaws.com`;
}

export interface CreateTokenInput {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly refreshToken: string;
  /** Base URL. @default `https://oidc.<region>.amazonaws.com` */
  readonly endpoint: string;
  readonly timeoutMs?: number;
  readonly agent?: http.Agent;
}

export interface CreateTokenOutput {
  readonly accessToken: string;
  readonly expiresInSeconds: number;
  /** A new refresh token, when the service rotates it. */
  readonly refreshToken: string | undefined;
}

/** CreateToken failed; the message has the HTTP status and the OAuth error code, never the body. */
export class SsoOidcError extends CredentialsError {
  override name = 'SsoOidcError';
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly errorCode: string | undefined,
    cause?: unknown,
  ) {
    super(message, { providerName: 'sso', cause });
  }
}

/** SSO-OIDC `CreateToken` with `grantType: refresh_token`: `POST /token`, JSON in and out, unsigned. */
export async function createTokenWithRefreshToken(input: CreateTokenInput): Promise<CreateTokenOutput> {
  const url = new URL(`${input.endpoint.replace(/\/+$/, '')}/token`);
  const where = `SSO-OIDC CreateToken (${url.origin})`;
  const { response, body } = await requestJson(
    {
      url,
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ clientId: input.clientId, clientSecret: input.clientSecret, grantType: 'refresh_token', refreshToken: input.refreshToken }),
      timeoutMs: input.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      maxBodyBytes: MAX_BODY_BYTES,
      ...(input.agent !== undefined ? { agent: input.agent } : {}),
    },
    (reason, cause) => new SsoOidcError(`${where} failed (${reason})`, undefined, undefined, cause),
  );
  if (response.status !== 200) {
    // Only the OAuth error code (`invalid_grant`, ...) or the error type header is quoted, never the rest.
    const errorType = headerValue(response, 'x-amzn-errortype')?.split(':')[0];
    const code = [body?.error, errorType].find((c): c is string => typeof c === 'string' && SAFE_ERROR_CODE.test(c));
    throw new SsoOidcError(`${where} answered HTTP ${response.status}${code !== undefined ? ` ${code}` : ''}`, response.status, code);
  }
  const accessToken = body?.accessToken;
  const expiresIn = body?.expiresIn;
  const refreshToken = body?.refreshToken;
  if (typeof accessToken !== 'string' || accessToken === '' || typeof expiresIn !== 'number' || !Number.isFinite(expiresIn) || expiresIn <= 0) {
    throw new SsoOidcError(`${where} answered HTTP 200, but not with {accessToken, expiresIn}`, 200, undefined);
  }
  return { accessToken, expiresInSeconds: expiresIn, refreshToken: typeof refreshToken === 'string' && refreshToken !== '' ? refreshToken : undefined };
}

/** What sso.ts has read from the cache file and hands over. */
export interface CachedSsoToken {
  /** The cache file, also the key of the single-flight and retry state. */
  readonly file: string;
  /** The whole parsed file: every field is kept on write-back. */
  readonly cached: Record<string, unknown>;
  readonly accessToken: string;
  readonly expiresMs: number;
  readonly ssoRegion: string;
  /** CreateToken base URL. @default `https://oidc.<ssoRegion>.amazonaws.com` */
  readonly endpoint?: string;
  readonly now: Clock;
  readonly timeoutMs?: number;
  readonly agent?: http.Agent;
  readonly logger?: Logger;
  /** Builds the "log in again" error: `fail('expired at …')`. */
  readonly fail: (problem: string, cause?: unknown) => Error;
}

interface Unwritten {
  /** The access token of the file this refresh replaced: while the file still holds it, use ours. */
  readonly basedOn: string;
  /** The cache record as it would have been written. */
  readonly record: Record<string, unknown>;
  readonly expiresMs: number;
}

/** Per cache file: the refresh under way, the time before which no new attempt starts, a refresh not written. */
const inFlight = new Map<string, Promise<string>>();
const retryAfter = new Map<string, number>();
const unwritten = new Map<string, Unwritten>();

/** For tests: forgets every refresh state (retry delays, in-memory tokens whose write failed). */
export function resetSsoRefreshState(): void {
  inFlight.clear();
  retryAfter.clear();
  unwritten.clear();
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Why this token cannot be refreshed, or undefined when it can. */
function notRefreshable(cached: Record<string, unknown>, nowMs: number): string | undefined {
  const missing = ['refreshToken', 'clientId', 'clientSecret', 'registrationExpiresAt'].filter((k) => typeof cached[k] !== 'string' || cached[k] === '');
  if (missing.length > 0) return `the cache has no ${missing.join(', ')}`;
  const registrationMs = Date.parse(cached.registrationExpiresAt as string);
  if (Number.isNaN(registrationMs)) return 'its registrationExpiresAt is not a date';
  if (registrationMs <= nowMs) return `its client registration expired at ${new Date(registrationMs).toISOString()}`;
  return undefined;
}

/**
 * The access token to use for an `sso-session` token: the cached one while it has more than
 * SSO_REFRESH_WINDOW_MS left, else a refreshed one when it can be refreshed, else the cached one
 * while it is still valid; past expiry, `fail(...)` with the reason the refresh did not happen.
 */
export async function ssoAccessTokenWithRefresh(token: CachedSsoToken): Promise<string> {
  const nowMs = token.now();
  let { accessToken, expiresMs, cached } = token;
  const mine = unwritten.get(token.file);
  if (mine !== undefined && mine.basedOn === accessToken) {
    // A refresh of this very file could not be written: go on from it, not from the file.
    ({ record: cached, expiresMs } = mine);
    accessToken = cached.accessToken as string;
  } else if (mine !== undefined) {
    unwritten.delete(token.file); // a new login replaced the file
  }
  if (expiresMs - nowMs > SSO_REFRESH_WINDOW_MS) return accessToken;

  const stillValid = (why: string, cause?: unknown): string => {
    if (expiresMs > token.now()) return accessToken;
    throw token.fail(`in ${token.file} expired at ${new Date(expiresMs).toISOString()} and ${why}`, cause);
  };
  const blocked = notRefreshable(cached, nowMs);
  if (blocked !== undefined) return stillValid(`cannot be refreshed: ${blocked}`);
  const running = inFlight.get(token.file);
  if (running !== undefined) return running;
  const waitUntil = retryAfter.get(token.file);
  if (waitUntil !== undefined && nowMs < waitUntil) {
    return stillValid(`the last refresh attempt failed less than ${SSO_REFRESH_RETRY_MS / 1000} s ago`);
  }

  const attempt = (async (): Promise<string> => {
    const log = toFullLogger(token.logger);
    let out: CreateTokenOutput;
    try {
      out = await createTokenWithRefreshToken({
        clientId: cached.clientId as string,
        clientSecret: cached.clientSecret as string,
        refreshToken: cached.refreshToken as string,
        endpoint: token.endpoint ?? ssoOidcEndpoint(token.ssoRegion),
        ...(token.timeoutMs !== undefined ? { timeoutMs: token.timeoutMs } : {}),
        ...(token.agent !== undefined ? { agent: token.agent } : {}),
      });
    } catch (error) {
      retryAfter.set(token.file, token.now() + SSO_REFRESH_RETRY_MS);
      const reason = error instanceof Error ? error.message : 'it failed';
      log.warn(`credchain sso: refreshing the SSO token in ${token.file} failed: ${reason}.`);
      return stillValid(`could not be refreshed: ${reason}`, error);
    }
    retryAfter.delete(token.file);
    const newExpiresMs = token.now() + out.expiresInSeconds * 1000;
    // Every other field is kept (botocore rewrites the file with its own fields only); a refresh token
    // the answer does not rotate stays as it was.
    const updated = { ...cached, accessToken: out.accessToken, expiresAt: iso(newExpiresMs), refreshToken: out.refreshToken ?? cached.refreshToken };
    try {
      await writeFileAtomic(token.file, `${JSON.stringify(updated)}\n`);
      unwritten.delete(token.file);
    } catch (error) {
      // As the JS SDK: go on with the new token from memory (and its refresh token: the one in the
      // file may have been rotated away), until a new login replaces the file.
      unwritten.set(token.file, { basedOn: token.accessToken, record: updated, expiresMs: newExpiresMs });
      const code = (error as NodeJS.ErrnoException | null)?.code ?? 'write failed';
      log.warn(`credchain sso: the refreshed SSO token could not be written to ${token.file} (${code}); it is used from memory.`);
    }
    log.debug(`credchain sso: refreshed the SSO token in ${token.file}; it expires at ${iso(newExpiresMs)}.`);
    return out.accessToken;
  })();
  inFlight.set(token.file, attempt);
  try {
    return await attempt;
  } finally {
    inFlight.delete(token.file);
  }
}
