import { CredentialsError } from '../errors.js';

/** How a backoff delay is randomized; a function gets the capped delay and returns the one to use. */
export type Jitter = 'none' | 'equal' | 'full' | ((delayMs: number) => number);

export interface RetryPolicy {
  /** Retries after the first attempt. */
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  jitter: Jitter;
}

/** Defaults: 3 retries (Ruby SDK), 300 ms base (Ruby SDK), 20 s cap and full jitter (the SDKs' standard retry mode). */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxRetries: 3, baseDelayMs: 300, maxDelayMs: 20_000, jitter: 'full' };

/** Delay before retry number `retry` (1-based): min(base × 2^(retry-1), max), then jittered. */
export function backoffDelayMs(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const capped = Math.min(policy.baseDelayMs * 2 ** (retry - 1), policy.maxDelayMs);
  const { jitter } = policy;
  if (typeof jitter === 'function') return Math.max(0, jitter(capped));
  if (jitter === 'full') return random() * capped;
  if (jitter === 'equal') return capped / 2 + (random() * capped) / 2;
  return capped;
}

/** Checks user-supplied retry options, naming the option at fault. */
export function normalizeRetryPolicy(o: { maxRetries?: number; baseDelay?: number; maxDelay?: number; jitter?: Jitter }): RetryPolicy {
  const number = (name: string, v: number | undefined, fallback: number, integer = false) => {
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || Number.isNaN(v) || v < 0 || (integer && !Number.isInteger(v)))
      throw new CredentialsError(`StsClient: option ${name} must be a non-negative ${integer ? 'integer' : 'number'} (got ${String(v)})`, {
        providerName: 'sts',
      });
    return v;
  };
  const jitter = o.jitter ?? DEFAULT_RETRY_POLICY.jitter;
  if (typeof jitter !== 'function' && !['none', 'equal', 'full'].includes(jitter))
    throw new CredentialsError(`StsClient: option jitter must be 'none', 'equal', 'full' or a function (got ${String(jitter)})`, {
      providerName: 'sts',
    });
  return {
    maxRetries: number('maxRetries', o.maxRetries, DEFAULT_RETRY_POLICY.maxRetries, true),
    baseDelayMs: number('baseDelay', o.baseDelay, DEFAULT_RETRY_POLICY.baseDelayMs),
    maxDelayMs: number('maxDelay', o.maxDelay, DEFAULT_RETRY_POLICY.maxDelayMs),
    jitter,
  };
}

/**
 * The backoff between attempts. Its timer stays ref'd on purpose: a caller awaits the call, and
 * during the sleep the keep-alive socket rests unref'd in the agent's pool, so this timer is all
 * that keeps a script whose only work is `await provider()` from exiting before the answer
 * (test/faults/awaited-retries-sts-sso.test.ts).
 */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    // Only ever registered on a signal.
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `attempt` with p-retry. Our own backoff (p-retry's `minTimeout` is 0) so the jitter modes
 * match the Ruby SDK's. `isRetryable` decides per error; `onRetry` hears about each retry.
 */
export async function withRetries<T>(
  attempt: (attemptNumber: number) => Promise<T>,
  policy: RetryPolicy,
  isRetryable: (error: Error) => boolean,
  signal: AbortSignal | undefined,
  onRetry?: (error: Error, retry: number, delayMs: number) => void,
): Promise<T> {
  // Loaded on first use: keeps it off the import path of the package root.
  const { default: pRetry } = await import('p-retry');
  return pRetry(attempt, {
    retries: policy.maxRetries,
    minTimeout: 0,
    maxTimeout: 0,
    // Awaited work: never unref a timer on this path (see `sleep`).
    unref: false,
    signal,
    shouldRetry: async ({ error, retriesConsumed }) => {
      if (!isRetryable(error)) return false;
      const delayMs = backoffDelayMs(retriesConsumed + 1, policy);
      onRetry?.(error, retriesConsumed + 1, delayMs);
      await sleep(delayMs, signal);
      return true;
    },
  });
}
