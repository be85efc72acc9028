import { type FileReadError, MAX_TOKEN_FILE_BYTES, readFileSafe } from '../../fs-read.js';
import { systemClock, type Clock } from '../../clock.js';
import type { Credentials } from '../../credentials.js';
import { CredentialsError, CredentialsNotFound } from '../../errors.js';
import { toFullLogger, type Logger } from '../../logger.js';
import { named, type InvalidatableProvider } from '../../provider.js';
import { settingValue } from './endpoint.js';
import { MetadataConfigError } from './errors.js';
import {
  describeCall,
  metadataHttpSettings,
  sendMetadataRequest,
  unexpectedStatus,
  withMetadataRetries,
  type MetadataCall,
  type MetadataHttpOptions,
} from './http.js';
import { parseCredentialsAnswer } from './response.js';
import { exposeStability, staticallyStable, type StaticStabilityStatus } from './stability.js';

const PROVIDER = 'container-metadata';

/** The environment variables the container provider reads, in one place. */
export const CONTAINER_SETTINGS = {
  relativeUriEnv: 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  fullUriEnv: 'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  tokenEnv: 'AWS_CONTAINER_AUTHORIZATION_TOKEN',
  tokenFileEnv: 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE',
} as const;

/** Where ECS serves `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`. */
export const ECS_CONTAINER_ENDPOINT = 'http://169.254.170.2';

/**
 * Hosts a full URI may reach over plain http: the ECS and EKS Pod Identity agents, and loopback as
 * IP literals only. Not `localhost`: a name goes through the resolver (hosts file, DNS), which can
 * send the request, with its authorization token, somewhere else.
 */
// `localhost` as botocore and the JS SDK allow it (Greengrass's token exchange service is at http://localhost:<port>).
const HTTP_ALLOWED_HOSTS = new Set(['169.254.170.2', '169.254.170.23', '[fd00:ec2::23]', '[::1]', 'localhost']);

export interface ContainerMetadataOptions extends MetadataHttpOptions {
  /** The environment to read, at each call. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Base URL for `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`. @default 'http://169.254.170.2' */
  readonly relativeUriEndpoint?: string;
  /** Clock for expiry checks and static stability. @default Date.now */
  readonly now?: Clock;
  /** Random source in [0, 1) for the static-stability pause. @default Math.random */
  readonly random?: () => number;
  /** Receives the static-stability warnings; never a secret. */
  readonly logger?: Logger;
}

/** True when a full URI may use plain http (loopback or a known link-local agent address). */
export function isHttpAllowedHost(hostname: string): boolean {
  if (HTTP_ALLOWED_HOSTS.has(hostname.toLowerCase())) return true; // `[FD00:EC2::23]` as written
  // URL parsing has already normalized IPv4 hosts to four decimal octets (`127.1` -> `127.0.0.1`).
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

interface ContainerTarget {
  readonly url: URL;
  /** Which variable the URL came from, for messages. */
  readonly source: string;
}

/** Picks the URL from the environment, relative URI first as in the AWS SDKs. Sends nothing. */
export function containerCredentialsUrl(env: NodeJS.ProcessEnv, relativeUriEndpoint = ECS_CONTAINER_ENDPOINT): ContainerTarget | undefined {
  const relative = settingValue(env, CONTAINER_SETTINGS.relativeUriEnv);
  if (relative !== undefined) {
    // Joined as text after the origin and a slash, so the variable is always a path there: `//other.host/...`
    // or `@other.host` cannot send the request elsewhere.
    const { origin } = new URL(relativeUriEndpoint);
    const url = parseUrl(`${origin}${relative.startsWith('/') ? '' : '/'}${relative}`, CONTAINER_SETTINGS.relativeUriEnv);
    return { url, source: CONTAINER_SETTINGS.relativeUriEnv };
  }
  const full = settingValue(env, CONTAINER_SETTINGS.fullUriEnv);
  if (full === undefined) return undefined;
  const url = parseUrl(full, CONTAINER_SETTINGS.fullUriEnv);
  // parseUrl let only http and https through.
  if (url.protocol === 'https:' || isHttpAllowedHost(url.hostname)) return { url, source: CONTAINER_SETTINGS.fullUriEnv };
  throw configError(
    `${CONTAINER_SETTINGS.fullUriEnv} (${url.protocol}//${url.host}) must use https, or http to a loopback address, ` +
      `169.254.170.2, 169.254.170.23 or [fd00:ec2::23]`,
    CONTAINER_SETTINGS.fullUriEnv,
  );
}

/** The Authorization header value: the token file (read now, so rotations are seen) wins over the variable. */
async function authorizationToken(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const file = settingValue(env, CONTAINER_SETTINGS.tokenFileEnv);
  let token: string | undefined;
  let setting: string;
  if (file !== undefined) {
    setting = `${CONTAINER_SETTINGS.tokenFileEnv} (${file})`;
    try {
      token = (await readFileSafe(file, MAX_TOKEN_FILE_BYTES)).text.trim();
    } catch (error) {
      // readFileSafe throws FileReadError only; its reason names the problem (`it does not exist (ENOENT)`).
      const { reason } = error as FileReadError;
      throw new CredentialsError(`${PROVIDER}: cannot read the authorization token file ${file} named by ${CONTAINER_SETTINGS.tokenFileEnv} (${reason})`, {
        providerName: PROVIDER,
        cause: error,
      });
    }
    if (token === '') throw configError(`the authorization token file ${file} is empty`, CONTAINER_SETTINGS.tokenFileEnv);
  } else {
    setting = CONTAINER_SETTINGS.tokenEnv;
    token = settingValue(env, CONTAINER_SETTINGS.tokenEnv);
  }
  if (/[\r\n\0]/.test(token ?? '')) {
    throw configError(`the authorization token from ${setting} contains a line break or NUL`, CONTAINER_SETTINGS.tokenEnv);
  }
  return token;
}

/**
 * Credentials from the ECS task role endpoint (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`) or a full
 * URI such as the EKS Pod Identity agent (`AWS_CONTAINER_CREDENTIALS_FULL_URI` with
 * `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` or `AWS_CONTAINER_AUTHORIZATION_TOKEN`). Not-found when
 * neither URI is set. Defaults: 1 s per request, 1 retry; static stability as for instance metadata.
 */
export function fromContainerMetadata(options: ContainerMetadataOptions = {}): InvalidatableProvider & { status(): StaticStabilityStatus } {
  const http = metadataHttpSettings(PROVIDER, options);
  const relativeUriEndpoint = options.relativeUriEndpoint ?? ECS_CONTAINER_ENDPOINT;
  parseUrl(relativeUriEndpoint, 'relativeUriEndpoint');

  /** The process-wide budget key of the source last asked (see staticallyStable's sourceKey). */
  let sourceKey: string | undefined;
  const fetch = async ({ background }: { readonly background: boolean }): Promise<Credentials> => {
    const env = options.env ?? process.env;
    const target = containerCredentialsUrl(env, relativeUriEndpoint);
    if (target === undefined) {
      throw new CredentialsNotFound(`${PROVIDER}: neither ${CONTAINER_SETTINGS.relativeUriEnv} nor ${CONTAINER_SETTINGS.fullUriEnv} is set`, {
        providerName: PROVIDER,
      });
    }
    const token = await authorizationToken(env);
    const call: MetadataCall = { method: 'GET', url: target.url, headers: token === undefined ? {} : { authorization: token } };
    sourceKey = `${PROVIDER} ${target.url.origin}${target.url.pathname}`;
    // Nobody awaits a background attempt: no retry (and so no timer); the backoff spaces them.
    const attemptHttp = background ? { ...http, maxRetries: 0 } : http;
    const res = await withMetadataRetries(attemptHttp, async () => {
      const r = await sendMetadataRequest(attemptHttp, call);
      if (r.status >= 500 || r.status === 429) throw unexpectedStatus(http, call, r.status);
      return r;
    });
    if (res.status !== 200) {
      const hint = res.status === 401 || res.status === 403 ? 'the endpoint refused the authorization token' : `from ${target.source}`;
      throw unexpectedStatus(http, call, res.status, hint);
    }
    return parseCredentialsAnswer({ providerName: PROVIDER, request: describeCall(call), status: res.status, body: res.body });
  };

  const stable = staticallyStable(fetch, {
    providerName: PROVIDER,
    now: options.now ?? systemClock,
    random: options.random ?? Math.random,
    logger: toFullLogger(options.logger),
    sourceKey: () => sourceKey,
  });
  const provider = named(PROVIDER, () => stable()) as InvalidatableProvider;
  provider.invalidate = () => stable.invalidate();
  return exposeStability(provider, stable);
}

function parseUrl(text: string, setting: string): URL {
  const url = URL.canParse(text) ? new URL(text) : undefined;
  if (url?.protocol === 'http:' || url?.protocol === 'https:') return url;
  throw configError(`${setting} is not a valid http(s) URL`, setting);
}

function configError(message: string, setting: string): MetadataConfigError {
  return new MetadataConfigError(`${PROVIDER}: ${message}`, { providerName: PROVIDER, setting });
}
