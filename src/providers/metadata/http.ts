import type http from 'node:http';
import { httpRequest, HttpRequestError, type HttpResponse } from '../../http/request.js';
import { MetadataConfigError, MetadataResponseError } from './errors.js';
import { METADATA_MAX_BODY_BYTES } from './response.js';

/** Request settings shared by the instance and container metadata providers. */
export interface MetadataHttpOptions {
  /** Deadline of each HTTP request (connect, send, read). @default 1000 */
  readonly timeoutMs?: number;
  /** Extra attempts after a 5xx, a timeout or a dropped connection. @default 1 */
  readonly maxRetries?: number;
  /** Delay before the first retry; later ones double, each randomized up to 2x (p-retry). @default 100 */
  readonly retryDelayMs?: number;
  /** HTTP agent. @default the process-wide keep-alive agent, reused across renewals */
  readonly agent?: http.Agent;
}

export interface MetadataHttpSettings {
  readonly providerName: string;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly retryDelayMs: number;
  readonly agent: http.Agent | undefined;
}

export const METADATA_HTTP_DEFAULTS = { timeoutMs: 1000, maxRetries: 1, retryDelayMs: 100 } as const;

/** Fills in defaults and rejects nonsense values with an error naming the option. */
export function metadataHttpSettings(providerName: string, options: MetadataHttpOptions): MetadataHttpSettings {
  const timeoutMs = options.timeoutMs ?? METADATA_HTTP_DEFAULTS.timeoutMs;
  const maxRetries = options.maxRetries ?? METADATA_HTTP_DEFAULTS.maxRetries;
  const retryDelayMs = options.retryDelayMs ?? METADATA_HTTP_DEFAULTS.retryDelayMs;
  const check = (name: string, value: number, ok: boolean, rule: string) => {
    if (!ok) throw new MetadataConfigError(`${providerName}: option ${name} must be ${rule}, got ${value}`, { providerName, setting: name });
  };
  check('timeoutMs', timeoutMs, Number.isFinite(timeoutMs) && timeoutMs > 0, 'a number > 0');
  check('maxRetries', maxRetries, Number.isInteger(maxRetries) && maxRetries >= 0, 'an integer >= 0');
  check('retryDelayMs', retryDelayMs, Number.isFinite(retryDelayMs) && retryDelayMs >= 0, 'a number >= 0');
  return { providerName, timeoutMs, maxRetries, retryDelayMs, agent: options.agent };
}

export interface MetadataCall {
  readonly url: URL;
  readonly method: 'GET' | 'PUT';
  readonly headers?: Record<string, string>;
}

/** `GET /latest/meta-data/...`: how requests are named in messages (no host, no query secrets). */
export function describeCall(call: MetadataCall): string {
  return `${call.method} ${call.url.pathname}`;
}

/**
 * One metadata HTTP exchange with the shared deadline, body cap and agent. Transport failures come
 * back as `MetadataResponseError` with the original `HttpRequestError` as `cause`, so callers can
 * tell "nothing is listening" apart from "it answered badly".
 */
export async function sendMetadataRequest(settings: MetadataHttpSettings, call: MetadataCall): Promise<HttpResponse> {
  const request = describeCall(call);
  try {
    return await httpRequest({
      url: call.url,
      method: call.method,
      headers: call.headers ?? {},
      timeoutMs: settings.timeoutMs,
      maxBodyBytes: METADATA_MAX_BODY_BYTES,
      ...(settings.agent ? { agent: settings.agent } : {}),
    });
  } catch (error) {
    const { providerName } = settings;
    if (error instanceof HttpRequestError && error.kind === 'too-large') {
      throw new MetadataResponseError(`${providerName}: ${request}: ${error.message} (the cap is ${METADATA_MAX_BODY_BYTES} bytes)`, {
        providerName,
        request,
        cause: error,
      });
    }
    const why = error instanceof HttpRequestError ? error.message : String(error);
    throw new MetadataResponseError(`${providerName}: ${request} got no answer: ${why}`, {
      providerName,
      request,
      retryable: true,
      cause: error,
    });
  }
}

/** The error for an unexpected HTTP status; 5xx and 429 are worth another attempt. */
export function unexpectedStatus(settings: MetadataHttpSettings, call: MetadataCall, status: number, hint = ''): MetadataResponseError {
  const request = describeCall(call);
  return new MetadataResponseError(`${settings.providerName}: ${request} answered ${status}${hint ? `: ${hint}` : ''}`, {
    providerName: settings.providerName,
    request,
    status,
    retryable: status >= 500 || status === 429,
  });
}

/** Runs `attempt`, retrying only errors marked retryable, with p-retry's exponential backoff. */
export async function withMetadataRetries<T>(settings: MetadataHttpSettings, attempt: () => Promise<T>): Promise<T> {
  // Loaded on first use: keeps it off the import path of the package root.
  const { default: pRetry } = await import('p-retry');
  return pRetry(attempt, {
    retries: settings.maxRetries,
    minTimeout: settings.retryDelayMs,
    factor: 2,
    randomize: true,
    // Keep the process alive: a caller awaits these retries (a script whose only work is awaiting
    // credentials must not exit before they arrive). Background attempts run with no retry at all.
    unref: false,
    shouldRetry: ({ error }) => error instanceof MetadataResponseError && error.retryable,
  });
}

/** The transport failure behind a `MetadataResponseError`, if that is what it was. */
export function transportFailureOf(error: unknown): HttpRequestError | undefined {
  if (!(error instanceof MetadataResponseError) || error.status !== undefined) return undefined;
  return error.cause instanceof HttpRequestError ? error.cause : undefined;
}
