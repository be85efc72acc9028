import { systemClock, type Clock } from '../../clock.js';
import type { Credentials } from '../../credentials.js';
import { CredentialsNotFound } from '../../errors.js';
import type { HttpResponse } from '../../http/request.js';
import { toFullLogger, type FullLogger, type Logger } from '../../logger.js';
import { named, type InvalidatableProvider } from '../../provider.js';
import {
  booleanSetting,
  IMDS_SETTINGS,
  loadProfileSettings,
  resolveImdsEndpoint,
  settingValue,
  type ProfileSettingsSource,
} from './endpoint.js';
import { MetadataConfigError, MetadataResponseError } from './errors.js';
import {
  describeCall,
  metadataHttpSettings,
  sendMetadataRequest,
  transportFailureOf,
  unexpectedStatus,
  withMetadataRetries,
  type MetadataCall,
  type MetadataHttpOptions,
  type MetadataHttpSettings,
} from './http.js';
import { hasAnswered, isKnownAbsent, meansNoMetadataService, rememberAbsent, rememberAnswered } from './off-host.js';
import { parseCredentialsAnswer } from './response.js';
import { exposeStability, staticallyStable, type StaticStabilityStatus } from './stability.js';

const PROVIDER = 'instance-metadata';
const TOKEN_PATH = '/latest/api/token';
const ROLE_LIST_PATH = '/latest/meta-data/iam/security-credentials/';
const REGION_PATH = '/latest/meta-data/placement/region';
const TOKEN_HEADER = 'x-aws-ec2-metadata-token';
const TOKEN_TTL_HEADER = 'x-aws-ec2-metadata-token-ttl-seconds';
const MAX_TOKEN_TTL_SECONDS = 21_600;

export interface InstanceMetadataOptions extends MetadataHttpOptions {
  /** IMDS base URL, e.g. `http://127.0.0.1:8080`; wins over the environment and the profile. */
  readonly endpoint?: string;
  /** `IPv4` (http://169.254.169.254) or `IPv6` (http://[fd00:ec2::254]), any case; used when no endpoint is set. */
  readonly endpointMode?: string;
  /**
   * Refuse the IMDSv1 fallback (requests without a token) when the token call answers 403, 404 or 405.
   * @default AWS_EC2_METADATA_V1_DISABLED, then the profile's ec2_metadata_v1_disabled, else false
   */
  readonly ec2MetadataV1Disabled?: boolean;
  /** Lifetime asked for each IMDSv2 session token, 1 to 21600. @default 21600 (6 hours) */
  readonly tokenTtlSeconds?: number;
  /** How long a process remembers that nothing answered at an endpoint (off EC2). @default 60000 */
  readonly offEc2MemoryMs?: number;
  /** The environment to read. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Settings of the selected shared-config profile (`ec2_metadata_*` keys), read once on first use. */
  readonly profileSettings?: ProfileSettingsSource;
  /** Clock for token lifetimes, expiry checks and static stability. @default Date.now */
  readonly now?: Clock;
  /** Random source in [0, 1) for the static-stability pause. @default Math.random */
  readonly random?: () => number;
  /** Receives the static-stability warnings and debug lines; never a secret. */
  readonly logger?: Logger;
}

/** True when `AWS_EC2_METADATA_DISABLED` is `true`, in any case; any other value leaves IMDS on. */
export function isImdsDisabled(env: NodeJS.ProcessEnv): boolean {
  return settingValue(env, IMDS_SETTINGS.disabledEnv)?.toLowerCase() === 'true';
}

/** Internal: a first-contact token PUT timed out and IMDSv1 is allowed (not retried; fetchToken falls back). */
class SilentTokenPut extends Error {}

interface ClientSettings {
  readonly http: MetadataHttpSettings;
  readonly endpoint: string;
  /** The setting that forbids the IMDSv1 fallback, if one does. */
  readonly v1DisabledBy: string | undefined;
  readonly tokenTtlSeconds: number;
  readonly offEc2MemoryMs: number;
  readonly now: Clock;
  readonly logger: FullLogger;
}

/**
 * One conversation with IMDS: keeps the session token until shortly before it ends, the role name
 * until IMDS says 404, and whether this endpoint ever answered (only a first contact that finds
 * nothing means "not on EC2").
 */
class ImdsClient {
  private token: { value: string; renewAtMs: number } | undefined;
  private tokenInFlight: Promise<string | undefined> | undefined;
  private v1Mode = false;
  private answered = false;
  /** When a first-contact token PUT that got no answer was sent (performance.now), until something answers. */
  private silentPutAtMs: number | undefined;
  private roleName: string | undefined;

  constructor(private readonly settings: ClientSettings) {}

  /** The endpoint this client talks to. */
  get endpoint(): string {
    return this.settings.endpoint;
  }

  /** `http` defaults to the configured settings; background attempts pass ones with no retry. */
  async credentials(http: MetadataHttpSettings = this.settings.http): Promise<Credentials> {
    const ask = async (role: string) => {
      const call = this.call('GET', ROLE_LIST_PATH + encodeURIComponent(role));
      return { role, call, res: await this.get(call, http) };
    };
    const remembered = this.roleName !== undefined;
    let answer = await ask(this.roleName ?? (await this.fetchRoleName(http)));
    if (answer.res.status === 404 && remembered) {
      // The instance profile may have changed: ask for the role name again, once.
      this.roleName = undefined;
      answer = await ask(await this.fetchRoleName(http));
    }
    const { role, call, res } = answer;
    if (res.status === 404) {
      this.roleName = undefined;
      throw new CredentialsNotFound(`${PROVIDER}: IMDS lists role ${role} but has no credentials for it (404)`, { providerName: PROVIDER });
    }
    if (res.status !== 200) throw unexpectedStatus(http, call, res.status);
    return parseCredentialsAnswer({ providerName: PROVIDER, request: describeCall(call), status: res.status, body: res.body });
  }

  async region(): Promise<string | undefined> {
    const call = this.call('GET', REGION_PATH);
    const res = await this.get(call, this.settings.http);
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw unexpectedStatus(this.settings.http, call, res.status);
    const region = res.body.trim();
    if (!/^[a-z0-9-]{1,64}$/.test(region)) {
      throw new MetadataResponseError(`${PROVIDER}: ${describeCall(call)} answered 200 with something that is not a region name`, {
        providerName: PROVIDER,
        request: describeCall(call),
        status: 200,
      });
    }
    return region;
  }

  private async fetchRoleName(http: MetadataHttpSettings): Promise<string> {
    const call = this.call('GET', ROLE_LIST_PATH);
    const res = await this.get(call, http);
    if (res.status === 404) {
      throw new CredentialsNotFound(`${PROVIDER}: this instance has no IAM role (instance profile) attached`, { providerName: PROVIDER });
    }
    if (res.status !== 200) throw unexpectedStatus(http, call, res.status);
    const role = res.body.split('\n')[0]!.trim();
    if (role === '') {
      throw new CredentialsNotFound(`${PROVIDER}: this instance has no IAM role (instance profile) attached`, { providerName: PROVIDER });
    }
    if (!/^[\w+=,.@-]{1,128}$/.test(role)) {
      throw new MetadataResponseError(`${PROVIDER}: ${describeCall(call)} answered 200 with something that is not a role name`, {
        providerName: PROVIDER,
        request: describeCall(call),
        status: 200,
      });
    }
    this.roleName = role;
    return role;
  }

  /** A GET with the session token; a 401 means the token went stale, so one new token and one more try. */
  private async get(call: MetadataCall, http: MetadataHttpSettings): Promise<HttpResponse> {
    let res = await this.getOnce(call, await this.currentToken(http), http);
    if (res.status === 401) {
      this.token = undefined;
      this.v1Mode = false; // an instance that now requires IMDSv2 refuses token-less requests with 401
      res = await this.getOnce(call, await this.currentToken(http), http);
    }
    return res;
  }

  private getOnce(call: MetadataCall, token: string | undefined, http: MetadataHttpSettings): Promise<HttpResponse> {
    const headers: Record<string, string> = token === undefined ? {} : { [TOKEN_HEADER]: token };
    const withToken: MetadataCall = { ...call, headers };
    return withMetadataRetries(http, async () => {
      const res = await this.send(withToken, this.fallbackHttp(http));
      if (res.status >= 500 || res.status === 429) throw unexpectedStatus(http, call, res.status);
      return res;
    });
  }

  /**
   * After a first-contact token PUT that got no answer, the IMDSv1 GET that follows gets what is left
   * of two request timeouts, so a process off EC2 (where nothing answers at all) learns it within 2 s.
   * (`silentPutAtMs` is only set before anything answered, and cleared by the first answer.)
   */
  private fallbackHttp(http: MetadataHttpSettings): MetadataHttpSettings {
    if (this.silentPutAtMs === undefined) return http;
    const leftMs = 2 * http.timeoutMs - (performance.now() - this.silentPutAtMs);
    return { ...http, timeoutMs: Math.max(1, Math.min(http.timeoutMs, Math.floor(leftMs))) };
  }

  private currentToken(http: MetadataHttpSettings): Promise<string | undefined> {
    if (this.v1Mode) return Promise.resolve(undefined);
    if (this.token !== undefined && this.settings.now() < this.token.renewAtMs) return Promise.resolve(this.token.value);
    this.tokenInFlight ??= this.fetchToken(http).finally(() => {
      this.tokenInFlight = undefined;
    });
    return this.tokenInFlight;
  }

  private async fetchToken(http: MetadataHttpSettings): Promise<string | undefined> {
    const { tokenTtlSeconds, now, logger } = this.settings;
    const call = this.call('PUT', TOKEN_PATH, { [TOKEN_TTL_HEADER]: String(tokenTtlSeconds) });
    const startedAtMs = performance.now();
    let res: HttpResponse;
    try {
      res = await withMetadataRetries(http, async () => {
        const r = await this.send(call, http, { tokenPut: true });
        if (r.status >= 500 || r.status === 429) throw unexpectedStatus(http, call, r.status);
        return r;
      });
    } catch (error) {
      if (!(error instanceof SilentTokenPut)) throw error;
      // On EC2 with a hop limit of 1 (a container without host networking) the PUT's answer never
      // arrives while a plain GET works: fall back to IMDSv1, as botocore and the JS SDK do. If the
      // GET finds nothing either, the endpoint is remembered as absent (off EC2).
      logger.debug(
        `${PROVIDER}: ${describeCall(call)} got no answer within ${http.timeoutMs} ms; trying IMDSv1 (no token), as on EC2 ` +
          'with a metadata hop limit of 1 (a container without host networking)',
      );
      // Only a first contact gets here (send throws SilentTokenPut only before anything answered).
      this.silentPutAtMs = startedAtMs;
      this.v1Mode = true;
      return undefined;
    }
    if (res.status === 403 || res.status === 404 || res.status === 405) {
      const { v1DisabledBy } = this.settings;
      if (v1DisabledBy !== undefined) {
        throw unexpectedStatus(
          http,
          call,
          res.status,
          `IMDSv2 tokens are not available and the IMDSv1 fallback is disabled by ${v1DisabledBy}`,
        );
      }
      logger.debug(`${PROVIDER}: ${describeCall(call)} answered ${res.status}; falling back to IMDSv1 (no token)`);
      this.v1Mode = true;
      return undefined;
    }
    if (res.status === 400) {
      throw unexpectedStatus(http, call, 400, `IMDS refused the token request (tokenTtlSeconds is ${tokenTtlSeconds})`);
    }
    if (res.status !== 200) throw unexpectedStatus(http, call, res.status);
    // IMDS tokens are base64 text: anything else (empty, a line break, a control character) cannot
    // be sent as a header value.
    const value = res.body.trim();
    if (!/^[\x21-\x7e]+$/.test(value)) {
      throw new MetadataResponseError(`${PROVIDER}: ${describeCall(call)} answered 200 without a usable token`, {
        providerName: PROVIDER,
        request: describeCall(call),
        status: 200,
      });
    }
    // Trust the shorter of the lifetime we asked for and the one IMDS reports, then renew a little early.
    const reported = Number(res.headers[TOKEN_TTL_HEADER]);
    const ttlMs = 1000 * (reported > 0 ? Math.min(reported, tokenTtlSeconds) : tokenTtlSeconds); // NaN > 0 is false
    this.token = { value, renewAtMs: now() + ttlMs - Math.min(60_000, ttlMs / 10) };
    return value;
  }

  /**
   * Sends one request; a first contact that finds nothing marks the endpoint absent process-wide. A
   * first-contact token PUT that times out is not yet "absent" when IMDSv1 is allowed: the caller
   * tries a token-less GET (see fetchToken).
   */
  private async send(call: MetadataCall, http: MetadataHttpSettings, { tokenPut = false } = {}): Promise<HttpResponse> {
    const { endpoint, now, offEc2MemoryMs, logger, v1DisabledBy } = this.settings;
    if (!this.answered && isKnownAbsent(endpoint, now())) {
      throw new CredentialsNotFound(`${PROVIDER}: no instance metadata service answered at ${endpoint} recently (not on EC2?)`, {
        providerName: PROVIDER,
      });
    }
    try {
      const res = await sendMetadataRequest(http, call);
      this.answered = true;
      this.silentPutAtMs = undefined;
      rememberAnswered(endpoint);
      return res;
    } catch (error) {
      const failure = transportFailureOf(error);
      if (failure !== undefined && !this.answered && meansNoMetadataService(failure)) {
        if (tokenPut && failure.kind === 'timeout' && v1DisabledBy === undefined) throw new SilentTokenPut();
        rememberAbsent(endpoint, now() + offEc2MemoryMs);
        this.v1Mode = false;
        this.silentPutAtMs = undefined;
        logger.debug(`${PROVIDER}: nothing answered at ${endpoint}; treating this process as off EC2 for ${offEc2MemoryMs} ms`);
        const hint =
          tokenPut && failure.kind === 'timeout'
            ? `; not on EC2? (in a container on EC2 with a metadata hop limit of 1 the token answer is dropped, and ` +
              `the IMDSv1 fallback is disabled by ${v1DisabledBy}: raise the hop limit to 2)`
            : '; not on EC2?';
        throw new CredentialsNotFound(`${PROVIDER}: no instance metadata service at ${endpoint} (${failure.message})${hint}`, {
          providerName: PROVIDER,
          cause: error,
        });
      }
      throw error;
    }
  }

  private call(method: 'GET' | 'PUT', path: string, headers?: Record<string, string>): MetadataCall {
    return { method, url: new URL(this.settings.endpoint + path), ...(headers ? { headers } : {}) };
  }
}

/** Validates the options and returns a function that builds the client on first use (profile read once). */
function clientFactory(options: InstanceMetadataOptions): { env: NodeJS.ProcessEnv; http: MetadataHttpSettings; get: () => Promise<ImdsClient> } {
  const http = metadataHttpSettings(PROVIDER, options);
  const tokenTtlSeconds = options.tokenTtlSeconds ?? MAX_TOKEN_TTL_SECONDS;
  if (!Number.isInteger(tokenTtlSeconds) || tokenTtlSeconds < 1 || tokenTtlSeconds > MAX_TOKEN_TTL_SECONDS) {
    throw new MetadataConfigError(`${PROVIDER}: option tokenTtlSeconds must be an integer from 1 to 21600, got ${tokenTtlSeconds}`, {
      providerName: PROVIDER,
      setting: 'tokenTtlSeconds',
    });
  }
  const offEc2MemoryMs = options.offEc2MemoryMs ?? 60_000;
  if (!(offEc2MemoryMs >= 0)) {
    throw new MetadataConfigError(`${PROVIDER}: option offEc2MemoryMs must be a number >= 0, got ${offEc2MemoryMs}`, {
      providerName: PROVIDER,
      setting: 'offEc2MemoryMs',
    });
  }
  const env = options.env ?? process.env;
  const now = options.now ?? systemClock;
  const logger = toFullLogger(options.logger);

  let client: Promise<ImdsClient> | undefined;
  const build = async () => {
    const profile = await loadProfileSettings(options.profileSettings);
    const endpoint = resolveImdsEndpoint({ endpoint: options.endpoint, mode: options.endpointMode, env, profile, providerName: PROVIDER });
    const v1Disabled = booleanSetting([
      ['option ec2MetadataV1Disabled', options.ec2MetadataV1Disabled],
      [IMDS_SETTINGS.v1DisabledEnv, env[IMDS_SETTINGS.v1DisabledEnv]],
      [`profile setting ${IMDS_SETTINGS.v1DisabledProfile}`, profile[IMDS_SETTINGS.v1DisabledProfile]],
    ]);
    const v1DisabledBy = v1Disabled?.value ? v1Disabled.setting : undefined;
    return new ImdsClient({ http, endpoint, v1DisabledBy, tokenTtlSeconds, offEc2MemoryMs, now, logger });
  };
  return {
    env,
    http,
    get: () => {
      // A failed build (unreadable profile, bad endpoint) is not cached: the next call reports it afresh.
      client ??= build().catch((error: unknown) => {
        client = undefined;
        throw error;
      });
      return client;
    },
  };
}

/** A metadata provider: `invalidate()` plus `status()`, which says whether credentials are extended and since when. */
export interface MetadataProvider extends InvalidatableProvider {
  status(): StaticStabilityStatus;
}

/** The internal option of the region lookup `defaultChain` wires for STS (see regionFromInstanceMetadata). */
export interface InstanceRegionOptions extends InstanceMetadataOptions {
  /**
   * Ask IMDS only when this process already has evidence that it runs on EC2 (IMDS answered earlier
   * at the same endpoint); otherwise resolve `undefined` at once, with a debug line. @default false
   */
  readonly onlyIfOnEc2?: boolean;
}

/**
 * Credentials of the EC2 instance's IAM role from the instance metadata service (IMDSv2 with a
 * session token; IMDSv1 when the token call answers 403/404/405, or gets no answer while a GET does,
 * as in a container on EC2 with a hop limit of 1, and the fallback is allowed).
 * A renewal after the first costs one request. Not-found when `AWS_EC2_METADATA_DISABLED=true`, when
 * no role is attached, or off EC2 (remembered process-wide for `offEc2MemoryMs`). After one success,
 * failed renewals and already-expired answers serve the last credentials EXTENDED (static stability)
 * while IMDS is retried in the background with backoff; `status()` tells.
 * Defaults: 1 s per request, 1 retry.
 */
export function fromInstanceMetadata(options: InstanceMetadataOptions = {}): MetadataProvider {
  const factory = clientFactory(options);
  /** The process-wide budget key of the endpoint asked (see staticallyStable's sourceKey). */
  let sourceKey: string | undefined;
  const stable = staticallyStable(
    async ({ background }) => {
      if (isImdsDisabled(factory.env)) {
        throw new CredentialsNotFound(`${PROVIDER}: disabled by ${IMDS_SETTINGS.disabledEnv}=true`, { providerName: PROVIDER });
      }
      const client = await factory.get();
      sourceKey = `${PROVIDER} ${client.endpoint}`;
      // Nobody awaits a background attempt: no retry (and so no timer); the backoff spaces them.
      return client.credentials(background ? { ...factory.http, maxRetries: 0 } : factory.http);
    },
    {
      providerName: PROVIDER,
      now: options.now ?? systemClock,
      random: options.random ?? Math.random,
      logger: toFullLogger(options.logger),
      sourceKey: () => sourceKey,
    },
  );
  const provider = named(PROVIDER, () => stable()) as MetadataProvider;
  provider.invalidate = () => stable.invalidate();
  return exposeStability(provider, stable);
}

/**
 * The instance's region from `/latest/meta-data/placement/region`, the last link of the region chain.
 * `undefined` when IMDS is disabled, off EC2 or the path is missing; a real error when IMDS answers badly.
 */
export async function regionFromInstanceMetadata(options: InstanceRegionOptions = {}): Promise<string | undefined> {
  const factory = clientFactory(options);
  if (isImdsDisabled(factory.env)) return undefined;
  try {
    const client = await factory.get();
    if (options.onlyIfOnEc2 && !hasAnswered(client.endpoint)) {
      toFullLogger(options.logger).debug(
        `${PROVIDER}: not asking ${client.endpoint} for the region: nothing shows this process runs on EC2 ` +
          '(instance metadata has not answered here); set AWS_REGION or the profile\'s region to pick one',
      );
      return undefined;
    }
    return await client.region();
  } catch (error) {
    if (error instanceof CredentialsNotFound) return undefined;
    throw error;
  }
}
