import type { Agent } from 'node:http';
import { systemClock, type Clock } from '../clock.js';
import { maskAccessKeyId, maskUrl, type CredentialProvider, type Credentials } from '../credentials.js';
import { CredentialsError, messageOf } from '../errors.js';
import { headerValue, httpRequest, type HttpRequestError, type HttpResponse } from '../http/request.js';
import { toFullLogger, type FullLogger, type Logger } from '../logger.js';
import type { StsEndpoint } from './endpoints.js';
import { CLOCK_SKEW_CODES, StsError } from './errors.js';
import { normalizeRetryPolicy, withRetries, type Jitter, type RetryPolicy } from './retry.js';
import type { StsStub, StsStubs } from './stubs.js';
import {
  OPERATIONS,
  type AssumeRoleInput,
  type AssumeRoleOutput,
  type AssumeRoleWithSAMLInput,
  type AssumeRoleWithSAMLOutput,
  type AssumeRoleWithWebIdentityInput,
  type AssumeRoleWithWebIdentityOutput,
  type DecodeAuthorizationMessageInput,
  type DecodeAuthorizationMessageOutput,
  type GetAccessKeyInfoInput,
  type GetAccessKeyInfoOutput,
  type GetCallerIdentityOutput,
  type GetFederationTokenInput,
  type GetFederationTokenOutput,
  type GetSessionTokenInput,
  type GetSessionTokenOutput,
  type StsInput,
  type StsOperationName,
  type StsOutput,
} from './types.js';

type Engine = typeof import('./engine.js');
let enginePromise: Promise<Engine> | undefined;
/**
 * The heavy half of the client (signer, XML reader, validation, endpoint rules), loaded by the client
 * itself on its first call: the STS code depends on nothing of the package's lazy boundary (lazy.ts).
 */
const loadEngine = (): Promise<Engine> => (enginePromise ??= import('./engine.js'));

export interface StsClientOptions {
  /** Region for the endpoint and signing. Default: `AWS_REGION`, `AWS_DEFAULT_REGION`, `profileRegion()`, `instanceRegion()`, else us-east-1 with the global endpoint. */
  readonly region?: string;
  /** Full endpoint URL, e.g. `http://127.0.0.1:4566`. Beats `AWS_ENDPOINT_URL_STS` and `AWS_ENDPOINT_URL`. */
  readonly endpoint?: string;
  /** Credentials for the signed operations (all but the two `AssumeRoleWith…` ones). */
  readonly credentials?: CredentialProvider | Credentials;
  /** Retries after the first attempt. @default 3 */
  readonly maxRetries?: number;
  /** Backoff base in milliseconds: retry n waits up to baseDelay × 2^(n-1). @default 300 */
  readonly baseDelay?: number;
  /** Backoff cap in milliseconds. @default 20000 */
  readonly maxDelay?: number;
  /** @default 'full' */
  readonly jitter?: Jitter;
  /** Per-attempt timeout in milliseconds (connect, send, read). @default 5000 */
  readonly timeout?: number;
  /** Aborts every call of this client. Calls can also take their own signal. */
  readonly signal?: AbortSignal;
  /** Use `sts-fips.{region}…`. @default `AWS_USE_FIPS_ENDPOINT === 'true'` */
  readonly useFipsEndpoint?: boolean;
  /** Gets one debug line per HTTP request; never secrets, signatures or tokens. */
  readonly logger?: Logger;
  /** Answer from stubs instead of HTTP (see `StsStubs`). Validation still runs. */
  readonly stub?: StsStubs;
  /** Check inputs against the documented STS rules before sending. @default true */
  readonly validate?: boolean;
  /** Clock for SigV4 dates and stub expirations. */
  readonly now?: Clock;
  /** Environment to read `AWS_REGION`, `AWS_ENDPOINT_URL_STS`… from. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The selected profile's `region`, consulted after the environment (wired by the shared-config resolver). */
  readonly profileRegion?: () => Promise<string | undefined>;
  /**
   * The last link of the region chain, after the profile: the instance's region from IMDS. `defaultChain`
   * wires `regionFromInstanceMetadata` here; a bare client does not, so it never contacts IMDS by itself.
   */
  readonly instanceRegion?: () => Promise<string | undefined>;
  /** HTTP agent. @default the process-wide keep-alive agent */
  readonly agent?: Agent;
}

/**
 * Package-internal call option (not exported from the package root): sign this call with these
 * credentials instead of the client's own. STS-backed providers keep one client, so its learned
 * clock offset and resolved endpoint outlive each source credential they sign with.
 */
export const SIGN_WITH: unique symbol = Symbol('credchain.sts.signWith');

/** Per-call options. */
export interface StsCallOptions {
  readonly signal?: AbortSignal;
  /** Per-attempt timeout in milliseconds for this call. */
  readonly timeout?: number;
  /** @internal See `SIGN_WITH`. */
  readonly [SIGN_WITH]?: Credentials;
}

const DEFAULT_TIMEOUT_MS = 5000;
/** A `Date` header this far from our clock on a signature/expiry error means our clock is wrong. */
const SKEW_THRESHOLD_MS = 60_000;

/**
 * A thin client for the AWS STS Query API (2011-06-15): all eight operations, SigV4-signed (except
 * the two `AssumeRoleWith…` calls), validated, retried with backoff, clock-skew aware.
 */
export class StsClient {
  private readonly options: StsClientOptions;
  private readonly logger: FullLogger;
  private readonly retryPolicy: RetryPolicy;
  private readonly now: Clock;
  private endpointPromise: Promise<StsEndpoint> | undefined;
  /** Added to our clock when signing; learned from the server's `Date` on a skew error. */
  private clockOffsetMs = 0;

  constructor(options: StsClientOptions = {}) {
    this.options = options;
    this.logger = toFullLogger(options.logger);
    this.retryPolicy = normalizeRetryPolicy(options);
    this.now = options.now ?? systemClock;
    checkTimeout(options.timeout);
  }

  /**
   * What printing a client shows (`util.inspect`, `JSON.stringify`): where it sends and with which
   * key, masked. Never the options themselves: they may hold plain credentials, stubbed secrets or
   * an environment with `AWS_SECRET_ACCESS_KEY`. An endpoint's user-info (`user:pass@`) is masked.
   */
  toJSON(): Record<string, unknown> {
    const { region, endpoint, credentials, stub } = this.options;
    const out: Record<string, unknown> = { region, endpoint: endpoint === undefined ? undefined : maskUrl(String(endpoint)) };
    if (credentials !== undefined)
      out.credentials = typeof credentials === 'function' ? '(provider)' : maskAccessKeyId(String(credentials.accessKeyId));
    if (stub !== undefined) out.stub = stub === true ? true : Object.keys(stub);
    if (this.clockOffsetMs !== 0) out.clockSkewMs = this.clockOffsetMs;
    for (const key of Object.keys(out)) if (out[key] === undefined) delete out[key];
    return out;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): Record<string, unknown> {
    return { StsClient: this.toJSON() };
  }

  /** The offset (ms) this client adds to its clock after learning the server's time. */
  get clockSkewMs(): number {
    return this.clockOffsetMs;
  }

  /** The endpoint URL and signing region calls go to (resolved once per client). */
  resolveEndpoint(): Promise<StsEndpoint> {
    this.endpointPromise ??= (async () => {
      const { resolveEndpoint, resolveRegion } = await loadEngine();
      const env = this.options.env ?? process.env;
      const region = await resolveRegion({
        region: this.options.region,
        env,
        profileRegion: this.options.profileRegion,
        instanceRegion: this.options.instanceRegion,
      });
      return resolveEndpoint({
        region,
        endpoint: this.options.endpoint,
        useFipsEndpoint: this.options.useFipsEndpoint,
        env,
        logger: this.logger,
      });
    })();
    // A failed resolution (e.g. a bad URL) is not cached, so fixing the environment takes effect.
    this.endpointPromise.catch(() => (this.endpointPromise = undefined));
    return this.endpointPromise;
  }

  assumeRole(input: AssumeRoleInput, options?: StsCallOptions): Promise<AssumeRoleOutput> {
    return this.send('assumeRole', input, options);
  }
  assumeRoleWithSAML(input: AssumeRoleWithSAMLInput, options?: StsCallOptions): Promise<AssumeRoleWithSAMLOutput> {
    return this.send('assumeRoleWithSAML', input, options);
  }
  assumeRoleWithWebIdentity(input: AssumeRoleWithWebIdentityInput, options?: StsCallOptions): Promise<AssumeRoleWithWebIdentityOutput> {
    return this.send('assumeRoleWithWebIdentity', input, options);
  }
  getSessionToken(input: GetSessionTokenInput = {}, options?: StsCallOptions): Promise<GetSessionTokenOutput> {
    return this.send('getSessionToken', input, options);
  }
  getFederationToken(input: GetFederationTokenInput, options?: StsCallOptions): Promise<GetFederationTokenOutput> {
    return this.send('getFederationToken', input, options);
  }
  getCallerIdentity(input: Record<string, never> = {}, options?: StsCallOptions): Promise<GetCallerIdentityOutput> {
    return this.send('getCallerIdentity', input, options);
  }
  decodeAuthorizationMessage(input: DecodeAuthorizationMessageInput, options?: StsCallOptions): Promise<DecodeAuthorizationMessageOutput> {
    return this.send('decodeAuthorizationMessage', input, options);
  }
  getAccessKeyInfo(input: GetAccessKeyInfoInput, options?: StsCallOptions): Promise<GetAccessKeyInfoOutput> {
    return this.send('getAccessKeyInfo', input, options);
  }

  /** Runs any operation by method name; the named methods are shorthands for this. */
  async send<Op extends StsOperationName>(op: Op, input: StsInput<Op>, options: StsCallOptions = {}): Promise<StsOutput<Op>> {
    if (!Object.hasOwn(OPERATIONS, op)) throw new CredentialsError(`StsClient: unknown operation ${String(op)}`, { providerName: 'sts' });
    checkTimeout(options.timeout);
    const engine = await loadEngine();
    const { runStub, encodeStsRequest } = engine;
    if (this.options.validate !== false) engine.validateInput(op, input);
    const { stub } = this.options;
    if (stub !== undefined) {
      const one = stub === true ? undefined : (stub[op] as StsStub<Op> | undefined);
      // A stubbed client sends nothing, so it never learns a clock offset.
      return runStub(op, one, input, this.now());
    }

    const { action } = OPERATIONS[op];
    const signal = combineSignals(this.options.signal, options.signal);
    const endpoint = await this.resolveEndpoint();
    const body = encodeStsRequest(op, action, input);
    const sentSecrets = secretInputsOf(input);
    const timeoutMs = options.timeout ?? this.options.timeout ?? DEFAULT_TIMEOUT_MS;
    try {
      return await withRetries(
        (attempt) => this.attempt(engine, op, body, endpoint, attempt, timeoutMs, signal, sentSecrets, options[SIGN_WITH]),
        this.retryPolicy,
        (error) => error instanceof StsError && error.retryable,
        signal,
        (error, retry, delayMs) =>
          // Only StsErrors are retried.
          this.logger.debug(`sts: ${action} retry ${retry} of ${this.retryPolicy.maxRetries} in ${Math.round(delayMs)} ms after ${(error as StsError).code}`),
      );
    } catch (error) {
      // Aborted in a backoff sleep or before sending: say so. An answer that arrived first is kept.
      if (signal?.aborted && !(error instanceof StsError))
        throw new StsError({ code: 'RequestAborted', serviceMessage: 'the call was aborted', operation: action, cause: error });
      throw error;
    }
  }

  /** One attempt: sign, send, parse; plus one immediate resend when the server says our clock is off. */
  private async attempt<Op extends StsOperationName>(
    engine: Engine,
    op: Op,
    body: string,
    endpoint: StsEndpoint,
    attempt: number,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    sentSecrets: readonly string[],
    signWith: Credentials | undefined,
  ): Promise<StsOutput<Op>> {
    const { action, signed } = OPERATIONS[op];
    const credentials = signed ? (signWith ?? (await this.credentialsFor(action))) : undefined;
    const secrets = credentials ? [...sentSecrets, credentials.secretAccessKey, credentials.sessionToken ?? ''] : sentSecrets;
    let skewCorrected = false;
    for (;;) {
      const started = performance.now();
      const headers: Record<string, string> = {
        host: endpoint.url.host,
        'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      };
      const sendHeaders = credentials
        ? await engine.signRequest({ url: endpoint.url, headers, body }, credentials, endpoint.signingRegion, new Date(this.now() + this.clockOffsetMs))
        : headers;
      let response: HttpResponse;
      try {
        response = await httpRequest({
          url: endpoint.url,
          method: 'POST',
          headers: sendHeaders,
          body,
          timeoutMs,
          ...(signal ? { signal } : {}),
          ...(this.options.agent ? { agent: this.options.agent } : {}),
        });
      } catch (error) {
        const failure = transportError(error, action);
        this.logRequest(action, endpoint, attempt, started, undefined, undefined, failure.code);
        throw failure;
      }
      const headerRequestId = engine.asRequestId(headerValue(response, 'x-amzn-requestid'));
      const outcome = await this.interpret(engine, op, action, response, headerRequestId, secrets);
      this.logRequest(action, endpoint, attempt, started, response.status, outcome.requestId, outcome instanceof StsError ? outcome.code : undefined);
      if (!(outcome instanceof StsError)) return outcome;
      if (credentials && !skewCorrected && CLOCK_SKEW_CODES.has(outcome.code) && this.adoptServerClock(response)) {
        skewCorrected = true;
        continue;
      }
      throw outcome;
    }
  }

  private async interpret<Op extends StsOperationName>(
    { parseStsXml, toOutput, UnreadableBody }: Engine,
    op: Op,
    action: string,
    response: HttpResponse,
    headerRequestId: string | undefined,
    secrets: readonly string[],
  ): Promise<StsOutput<Op> | StsError> {
    const status = response.status;
    try {
      const parsed = await parseStsXml(response.body, action);
      if (parsed.kind === 'error') {
        return new StsError({
          code: parsed.code,
          serviceMessage: redact(parsed.message, secrets),
          operation: action,
          statusCode: status,
          requestId: parsed.requestId ?? headerRequestId,
          type: parsed.type,
        });
      }
      const requestId = parsed.requestId ?? headerRequestId;
      if (status < 200 || status >= 300)
        return invalidResponse(action, status, requestId, `HTTP ${status} came with a success document`);
      return toOutput(op, parsed.result, requestId ?? '');
    } catch (error) {
      if (!(error instanceof UnreadableBody)) throw error;
      return invalidResponse(action, status, headerRequestId, error.message);
    }
  }

  /** Adopts the server's clock when its `Date` header is minutes away from ours; true if it did. */
  private adoptServerClock(response: HttpResponse): boolean {
    const date = headerValue(response, 'date');
    const serverMs = date ? Date.parse(date) : NaN;
    if (Number.isNaN(serverMs)) return false;
    const offset = serverMs - this.now();
    if (Math.abs(offset - this.clockOffsetMs) < SKEW_THRESHOLD_MS) return false;
    this.logger.debug(`sts: clock skew of ${Math.round(offset / 1000)} s detected from the server's Date header; adopting it and retrying once`);
    this.clockOffsetMs = offset;
    return true;
  }

  private async credentialsFor(action: string): Promise<Credentials> {
    const source = this.options.credentials;
    if (source === undefined)
      throw new CredentialsError(`StsClient: ${action} is a signed operation and needs credentials; pass the credentials option`, {
        providerName: 'sts',
      });
    if (typeof source !== 'function') return source;
    try {
      return await source();
    } catch (error) {
      throw new CredentialsError(`StsClient: could not get credentials to sign ${action}: ${messageOf(error)}`, { providerName: 'sts', cause: error });
    }
  }

  private logRequest(
    action: string,
    endpoint: StsEndpoint,
    attempt: number,
    startedMs: number,
    status: number | undefined,
    requestId: string | undefined,
    code: string | undefined,
  ): void {
    const latencyMs = Math.round(performance.now() - startedMs);
    this.logger.debug(
      `sts: ${action} region=${endpoint.signingRegion} endpoint=${endpoint.url.origin}${endpoint.url.pathname} (${endpoint.source}) attempt=${attempt} ` +
        `status=${status ?? '-'} requestId=${requestId || '-'} latencyMs=${latencyMs}${code ? ` error=${code}` : ''}`,
    );
  }
}

/** The secret inputs of a call (web identity token, SAML assertion, context assertions), to keep out of error messages. */
function secretInputsOf(input: unknown): string[] {
  const { webIdentityToken, samlAssertion, providedContexts } = (input ?? {}) as {
    webIdentityToken?: unknown;
    samlAssertion?: unknown;
    providedContexts?: unknown;
  };
  const contextAssertions = Array.isArray(providedContexts)
    ? providedContexts.map((context: unknown) => (context as { contextAssertion?: unknown } | null)?.contextAssertion)
    : [];
  return [webIdentityToken, samlAssertion, ...contextAssertions].filter((v): v is string => typeof v === 'string');
}

/** A timeout (constructor or per call) must keep a deadline: 0, negative or NaN would remove it. */
function checkTimeout(timeout: unknown): void {
  if (timeout !== undefined && !(typeof timeout === 'number' && timeout > 0))
    throw new CredentialsError(`StsClient: option timeout must be a positive number of milliseconds (got ${String(timeout)})`, { providerName: 'sts' });
}

/** An error message from the server with anything we sent as a secret (echoed back) replaced by `****`. */
function redact(message: string, secrets: readonly string[]): string {
  let out = message;
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join('****');
  return out;
}

function invalidResponse(action: string, status: number, requestId: string | undefined, why: string): StsError {
  // The body is never quoted: it may hold credentials.
  return new StsError({ code: 'InvalidResponse', serviceMessage: `unreadable response: ${why}`, operation: action, statusCode: status, requestId });
}

/** `httpRequest` fails with an HttpRequestError, whose `kind` says how; anything else (no kind) counts as a network failure. */
function transportError(error: unknown, action: string): StsError {
  const { kind } = error as Partial<HttpRequestError>;
  // Not a transport hiccup: the server answered, with more than any STS response holds. Retrying gets the same.
  if (kind === 'too-large') return new StsError({ code: 'InvalidResponse', serviceMessage: `unreadable response: ${messageOf(error)}`, operation: action, cause: error });
  const code = kind === 'timeout' ? 'TimeoutError' : kind === 'aborted' ? 'RequestAborted' : 'NetworkingError';
  return new StsError({ code, serviceMessage: messageOf(error), operation: action, cause: error });
}

function combineSignals(a: AbortSignal | undefined, b: AbortSignal | undefined): AbortSignal | undefined {
  if (!a) return b;
  if (!b) return a;
  return AbortSignal.any([a, b]);
}
