import { createHash, createPrivateKey, createPublicKey, randomUUID, sign, type KeyObject } from 'node:crypto';
import type http from 'node:http';
import path from 'node:path';
import { writeFileAtomic } from '../../atomic-write.js';
import { systemClock, type Clock } from '../../clock.js';
import { homeDirectory, loadSharedConfig, type Env } from '../../config/files.js';
import { makeCredentials, type CredentialProvider, type Credentials } from '../../credentials.js';
import { CredentialsError, CredentialsNotFound } from '../../errors.js';
import { FileReadError, MAX_TOKEN_FILE_BYTES, readFileSafe } from '../../fs-read.js';
import { SAFE_ERROR_CODE, requestJson } from '../../http/json.js';
import { headerValue } from '../../http/request.js';
import { toFullLogger, type Logger } from '../../logger.js';
import { named } from '../../provider.js';

/**
 * `fromLogin`: credentials of an AWS Console session that `aws login` signed the CLI in with
 * (profile key `login_session`), as the JS SDK's `fromLoginCredentials` and smithy-rs's
 * `LoginCredentialsProvider` read them: the cache file `<sha256(login_session)>.json` in
 * `AWS_LOGIN_CACHE_DIRECTORY` or `~/.aws/login/cache` holds 15-minute credentials, a refresh token,
 * the client id and an EC P-256 key. Within 5 minutes of expiry, the Sign-In service's
 * `CreateOAuth2Token` (`POST /v1/token`, `grantType: refresh_token`) gives new ones; the request
 * carries a DPoP proof (RFC 9449, ES256) signed with that key. The answer is written back to the same
 * file (temp + rename, 0600, other fields kept).
 */

const PROVIDER = 'login';
/** Refresh when this little is left (JS SDK and smithy-rs: 5 minutes). */
export const LOGIN_REFRESH_WINDOW_MS = 5 * 60_000;
/** Least time between two refresh attempts of one session (smithy-rs `MIN_TIME_BETWEEN_REFRESH`). */
export const LOGIN_REFRESH_RETRY_MS = 30_000;
/** The JS SDK's default when an answer has no `expiresIn`. */
const DEFAULT_EXPIRES_IN_S = 900;
const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_BODY_BYTES = 256 * 1024;

export interface FromLoginOptions {
  /**
   * The `login_session` (an ARN) whose cached token to use. Without it, the profile's `login_session`
   * is read from the shared config (`profile`, else AWS_PROFILE, else `default`).
   */
  readonly loginSession?: string;
  /** The profile, for the `aws login --profile <name>` advice (and to find `login_session`). */
  readonly profile?: string;
  /** Region of the Sign-In endpoint. @default the profile's `region`, else AWS_REGION, else AWS_DEFAULT_REGION */
  readonly region?: string;
  /** Sign-In base URL. @default `https://<region>.signin.aws.amazon.com` (`.amazonaws.cn`, `.amazonaws-us-gov.com` in those partitions) */
  readonly endpoint?: string;
  /** Token cache directory. @default AWS_LOGIN_CACHE_DIRECTORY, else `<home>/.aws/login/cache` */
  readonly cacheDir?: string;
  /** Shared config files, when `loginSession` is not given. */
  readonly configFile?: string;
  readonly credentialsFile?: string;
  /** @default process.env */
  readonly env?: Env;
  /** @default Date.now */
  readonly now?: Clock;
  /** Deadline of the refresh request. @default 10_000 */
  readonly timeoutMs?: number;
  readonly agent?: http.Agent;
  /** Refresh warnings (never with a secret). @default silent */
  readonly logger?: Logger;
}

/** The cached console session is missing, malformed, or expired and not refreshed: run `aws login`. */
export class LoginSessionError extends CredentialsError {
  override name = 'LoginSessionError';
  constructor(
    message: string,
    readonly cacheFile: string,
    cause?: unknown,
  ) {
    super(message, { providerName: PROVIDER, cause });
  }
}

/** The Sign-In token operation failed; the message has the status and error code, never the body. */
export class SigninTokenError extends CredentialsError {
  override name = 'SigninTokenError';
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly errorCode: string | undefined,
    cause?: unknown,
  ) {
    super(message, { providerName: PROVIDER, cause });
  }
}

/** `<dir>/<hex sha256 of the login_session>.json` (JS SDK and smithy-rs). */
export function loginCacheFile(loginSession: string, cacheDir: string): string {
  return path.join(cacheDir, `${createHash('sha256').update(loginSession, 'utf8').digest('hex')}.json`);
}

/** The default cache directory: AWS_LOGIN_CACHE_DIRECTORY, else `<home>/.aws/login/cache`. */
export function loginCacheDir(env: Env): string {
  const fromEnv = env.AWS_LOGIN_CACHE_DIRECTORY;
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : path.join(homeDirectory(env), '.aws', 'login', 'cache');
}

/** The Sign-In service's regional endpoint (its Smithy endpoint rules, without FIPS/dual-stack). */
export function signinEndpoint(region: string): string {
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(region)) {
    throw new CredentialsError(`region = ${region} is not a region name (like us-east-1), so there is no Sign-In endpoint for it.`, { providerName: PROVIDER });
  }
  if (region.startsWith('cn-')) return `https://${region}.signin.amazonaws.cn`;
  if (region.startsWith('us-gov-')) return `https://${region}.signin.amazonaws-us-gov.com`;
  return `https://${region}.signin.aws.amazon.com`;
}

const b64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');

/** The cached `dpopKey` (SEC1 or PKCS#8 PEM) as a P-256 private key; never echoes the key in errors. */
export function dpopPrivateKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new Error('the dpopKey is not a PEM private key');
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new Error('the dpopKey is not an EC P-256 key');
  }
  return key;
}

/**
 * A DPoP proof (RFC 9449) for one request: a JWT with header `{typ: dpop+jwt, alg: ES256, jwk}`
 * (the public key) and payload `{jti, htm, htu, iat}`, signed ES256 (raw r||s, as JWS wants).
 */
export function dpopProof(key: KeyObject, method: string, url: string, nowMs: number): string {
  const { kty, crv, x, y } = createPublicKey(key).export({ format: 'jwk' });
  const header = b64url(JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty, x, y, crv } }));
  const payload = b64url(JSON.stringify({ jti: randomUUID(), htm: method, htu: url, iat: Math.floor(nowMs / 1000) }));
  const signature = sign('sha256', Buffer.from(`${header}.${payload}`), { key, dsaEncoding: 'ieee-p1363' });
  return `${header}.${payload}.${b64url(signature)}`;
}

interface LoginToken {
  readonly record: Record<string, unknown>;
  readonly accessToken: Record<string, unknown>;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly accountId: string;
  readonly expiresMs: number;
  readonly clientId: string;
  readonly refreshToken: string;
  readonly dpopKey: string;
}

const REASONS: Record<string, string> = {
  TOKEN_EXPIRED: 'the console session has expired',
  USER_CREDENTIALS_CHANGED: 'the password changed since the login; log in with the new password',
  INSUFFICIENT_PERMISSIONS: "insufficient permissions: the identity may lack permission for the 'CreateOAuth2Token' action",
};

/** Sign-In `CreateOAuth2Token` with the refresh-token grant and a DPoP proof. */
async function createOAuth2Token(
  token: LoginToken,
  endpoint: string,
  key: KeyObject,
  nowMs: number,
  options: Pick<FromLoginOptions, 'timeoutMs' | 'agent'>,
): Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken: string; refreshToken: string; expiresInSeconds: number }> {
  const url = new URL(`${endpoint.replace(/\/+$/, '')}/v1/token`);
  const where = `Sign-In CreateOAuth2Token (${url.origin})`;
  const { response, body } = await requestJson(
    {
      url,
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', dpop: dpopProof(key, 'POST', `${url.origin}${url.pathname}`, nowMs) },
      body: JSON.stringify({ clientId: token.clientId, grantType: 'refresh_token', refreshToken: token.refreshToken }),
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      maxBodyBytes: MAX_BODY_BYTES,
      ...(options.agent !== undefined ? { agent: options.agent } : {}),
    },
    (reason, cause) => new SigninTokenError(`${where} failed (${reason})`, undefined, undefined, cause),
  );
  if (response.status !== 200) {
    const type = [headerValue(response, 'x-amzn-errortype')?.split(':')[0], body?.__type].find((t): t is string => typeof t === 'string' && SAFE_ERROR_CODE.test(t));
    const code = typeof body?.error === 'string' && SAFE_ERROR_CODE.test(body.error) ? body.error : undefined;
    const known = code !== undefined ? REASONS[code] : undefined;
    const label = [type, code].filter((v) => v !== undefined).join(' ');
    throw new SigninTokenError(`${where} answered HTTP ${response.status}${label !== '' ? ` ${label}` : ''}${known !== undefined ? ` (${known})` : ''}`, response.status, code);
  }
  const out = (body?.tokenOutput ?? body) as Record<string, unknown> | undefined;
  const creds = out?.accessToken as Record<string, unknown> | undefined;
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const accessKeyId = str(creds?.accessKeyId);
  const secretAccessKey = str(creds?.secretAccessKey);
  const sessionToken = str(creds?.sessionToken);
  const refreshToken = str(out?.refreshToken);
  const expiresIn = out?.expiresIn ?? DEFAULT_EXPIRES_IN_S;
  if (accessKeyId === undefined || secretAccessKey === undefined || sessionToken === undefined || refreshToken === undefined || typeof expiresIn !== 'number' || !(expiresIn > 0)) {
    throw new SigninTokenError(`${where} answered HTTP 200, but not with {accessToken {accessKeyId, secretAccessKey, sessionToken}, refreshToken, expiresIn}`, 200, undefined);
  }
  return { accessKeyId, secretAccessKey, sessionToken, refreshToken, expiresInSeconds: expiresIn };
}

/** Per cache file: the refresh under way, the earliest next attempt, a refresh that could not be written. */
const inFlight = new Map<string, Promise<Credentials>>();
const retryAfter = new Map<string, number>();
const unwritten = new Map<string, { basedOn: string; text: string }>();

/** For tests: forgets the per-session refresh state. */
export function resetLoginRefreshState(): void {
  inFlight.clear();
  retryAfter.clear();
  unwritten.clear();
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function fromLogin(options: FromLoginOptions = {}): CredentialProvider {
  const now = options.now ?? systemClock;
  const env = options.env ?? process.env;
  const log = toFullLogger(options.logger);

  const resolveSession = async (): Promise<{ loginSession: string; profile: string | undefined; region: string | undefined }> => {
    if (options.loginSession !== undefined) return { loginSession: options.loginSession, profile: options.profile, region: options.region };
    const config = await loadSharedConfig({
      ...(options.profile !== undefined ? { profile: options.profile } : {}),
      ...(options.configFile !== undefined ? { configFile: options.configFile } : {}),
      ...(options.credentialsFile !== undefined ? { credentialsFile: options.credentialsFile } : {}),
      env,
    });
    const loginSession = config.profile?.login_session?.trim();
    if (loginSession === undefined || loginSession === '') {
      throw new CredentialsNotFound(`Profile \`${config.profileName}\` does not set login_session (set by \`aws login\`).`, { providerName: PROVIDER });
    }
    return { loginSession, profile: config.profileName, region: options.region ?? config.profile?.region };
  };

  const provider = async (): Promise<Credentials> => {
    const { loginSession, profile, region } = await resolveSession();
    const file = loginCacheFile(loginSession, options.cacheDir ?? loginCacheDir(env));
    const login = `run \`aws login${profile !== undefined ? ` --profile ${profile}` : ''}\``;
    const of = `The console login session ${loginSession}${profile !== undefined ? ` of profile \`${profile}\`` : ''}`;
    const fail = (problem: string, cause?: unknown) => new LoginSessionError(`${of} ${problem}; ${login}.`, file, cause);

    let text: string;
    try {
      text = (await readFileSafe(file, MAX_TOKEN_FILE_BYTES)).text;
    } catch (error) {
      const problem = error instanceof FileReadError ? error : undefined;
      throw fail(problem?.problem === 'missing' ? `has no cached token (no ${file})` : `could not be read from ${file} (${problem?.reason ?? 'read failed'})`, error);
    }
    const mine = unwritten.get(file);
    if (mine !== undefined && mine.basedOn === text) text = mine.text;
    else if (mine !== undefined) unwritten.delete(file);
    const token = parseToken(text, file, fail);
    const credentials = () =>
      makeCredentials({ accessKeyId: token.accessKeyId, secretAccessKey: token.secretAccessKey, sessionToken: token.sessionToken, accountId: token.accountId, expiration: new Date(token.expiresMs) });

    const nowMs = now();
    if (token.expiresMs - nowMs > LOGIN_REFRESH_WINDOW_MS) return credentials();
    const stillValid = (why: string, cause?: unknown): Credentials => {
      if (token.expiresMs > now()) return credentials();
      throw fail(`expired at ${new Date(token.expiresMs).toISOString()} and ${why}`, cause);
    };
    const running = inFlight.get(file);
    if (running !== undefined) return running;
    const waitUntil = retryAfter.get(file);
    if (waitUntil !== undefined && nowMs < waitUntil) return stillValid(`the last refresh attempt failed less than ${LOGIN_REFRESH_RETRY_MS / 1000} s ago`);

    const attempt = (async (): Promise<Credentials> => {
      let answer;
      try {
        const key = dpopPrivateKey(token.dpopKey);
        const base = options.endpoint ?? (region !== undefined && region !== '' ? signinEndpoint(region) : undefined);
        if (base === undefined) throw new Error('no region is set for the Sign-In endpoint (set region in the profile or AWS_REGION)');
        answer = await createOAuth2Token(token, base, key, now(), options);
      } catch (error) {
        retryAfter.set(file, now() + LOGIN_REFRESH_RETRY_MS);
        const reason = error instanceof Error ? error.message : 'it failed';
        log.warn(`credchain login: refreshing the console session in ${file} failed: ${reason}.`);
        return stillValid(`could not be refreshed: ${reason}`, error);
      }
      retryAfter.delete(file);
      const expiresMs = now() + answer.expiresInSeconds * 1000;
      const updated = {
        ...token.record,
        accessToken: { ...token.accessToken, accessKeyId: answer.accessKeyId, secretAccessKey: answer.secretAccessKey, sessionToken: answer.sessionToken, expiresAt: iso(expiresMs) },
        refreshToken: answer.refreshToken,
      };
      const out = JSON.stringify(updated, null, 2);
      try {
        await writeFileAtomic(file, out);
        unwritten.delete(file);
      } catch (error) {
        // The old refresh token has been rotated away: keep the new one in memory for this process.
        unwritten.set(file, { basedOn: text, text: out });
        log.warn(`credchain login: the refreshed session could not be written to ${file} (${(error as NodeJS.ErrnoException | null)?.code ?? 'write failed'}); it is used from memory.`);
      }
      return makeCredentials({ accessKeyId: answer.accessKeyId, secretAccessKey: answer.secretAccessKey, sessionToken: answer.sessionToken, accountId: token.accountId, expiration: new Date(expiresMs) });
    })();
    inFlight.set(file, attempt);
    try {
      return await attempt;
    } finally {
      inFlight.delete(file);
    }
  };
  return named(PROVIDER, provider);
}

/** The fields both SDKs require: accessToken {accessKeyId, secretAccessKey, sessionToken, accountId, expiresAt}, clientId, refreshToken, dpopKey. */
function parseToken(text: string, file: string, fail: (problem: string) => Error): LoginToken {
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch {
    throw fail(`has a cache file ${file} that is not valid JSON`);
  }
  if (record === null || typeof record !== 'object' || Array.isArray(record)) throw fail(`has a cache file ${file} that is not a JSON object`);
  const r = record as Record<string, unknown>;
  const access = r.accessToken !== null && typeof r.accessToken === 'object' ? (r.accessToken as Record<string, unknown>) : undefined;
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const fields = {
    accessToken: access,
    'accessToken.accessKeyId': str(access?.accessKeyId),
    'accessToken.secretAccessKey': str(access?.secretAccessKey),
    'accessToken.sessionToken': str(access?.sessionToken),
    'accessToken.accountId': str(access?.accountId),
    'accessToken.expiresAt': str(access?.expiresAt),
    clientId: str(r.clientId),
    refreshToken: str(r.refreshToken),
    dpopKey: str(r.dpopKey),
  };
  const missing = Object.entries(fields)
    .filter(([, v]) => v === undefined)
    .map(([k]) => k);
  if (missing.includes('accessToken')) throw fail(`has a cache file ${file} without accessToken`);
  if (missing.length > 0) throw fail(`has a cache file ${file} without ${missing.join(', ')}`);
  const expiresMs = Date.parse(fields['accessToken.expiresAt']!);
  if (Number.isNaN(expiresMs)) throw fail(`has a cache file ${file} whose accessToken.expiresAt is not a date`);
  return {
    record: r,
    accessToken: access!,
    accessKeyId: fields['accessToken.accessKeyId']!,
    secretAccessKey: fields['accessToken.secretAccessKey']!,
    sessionToken: fields['accessToken.sessionToken']!,
    accountId: fields['accessToken.accountId']!,
    expiresMs,
    clientId: fields.clientId!,
    refreshToken: fields.refreshToken!,
    dpopKey: fields.dpopKey!,
  };
}
