import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { CredentialsError } from '../../src/errors.js';
import { DEFAULT_RETRY_POLICY, backoffDelayMs, normalizeRetryPolicy, withRetries, type RetryPolicy } from '../../src/sts/retry.js';

// Tests added from the surviving mutants of `npm run mutate` (bench/MUTATION.md).
const policy = (p: Partial<RetryPolicy>): RetryPolicy => ({ ...DEFAULT_RETRY_POLICY, ...p });

describe('sts/retry (mutation)', () => {
  it('defaults: 3 retries, 300 ms base, 20 s cap, full jitter', () => {
    expect(DEFAULT_RETRY_POLICY).toEqual({ maxRetries: 3, baseDelayMs: 300, maxDelayMs: 20_000, jitter: 'full' });
    expect(normalizeRetryPolicy({})).toEqual(DEFAULT_RETRY_POLICY);
  });

  it('backoff doubles from the base, capped, before the jitter', () => {
    const none = policy({ baseDelayMs: 100, maxDelayMs: 1000, jitter: 'none' });
    expect([1, 2, 3, 4, 5, 6].map((r) => backoffDelayMs(r, none))).toEqual([100, 200, 400, 800, 1000, 1000]);
    const full = policy({ baseDelayMs: 100, maxDelayMs: 1000, jitter: 'full' });
    expect(backoffDelayMs(3, full, () => 0.5)).toBe(200);
    expect(backoffDelayMs(3, full, () => 0)).toBe(0);
    const equal = policy({ baseDelayMs: 100, maxDelayMs: 1000, jitter: 'equal' });
    expect(backoffDelayMs(3, equal, () => 0)).toBe(200);
    expect(backoffDelayMs(3, equal, () => 0.5)).toBe(300);
    expect(backoffDelayMs(3, equal, () => 1)).toBe(400);
    const fn = policy({ baseDelayMs: 100, maxDelayMs: 1000, jitter: (d) => d - 1000 });
    expect(backoffDelayMs(3, fn)).toBe(0);
    expect(backoffDelayMs(3, policy({ baseDelayMs: 100, maxDelayMs: 1000, jitter: (d) => d + 1 }))).toBe(401);
  });

  it('checks each option, naming it and the kind of number it needs', () => {
    const message = (o: Parameters<typeof normalizeRetryPolicy>[0]) => {
      try {
        normalizeRetryPolicy(o);
      } catch (e) {
        expect(e).toBeInstanceOf(CredentialsError);
        expect((e as CredentialsError).providerName).toBe('sts');
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(message({ maxRetries: 1.5 })).toBe('StsClient: option maxRetries must be a non-negative integer (got 1.5)');
    expect(message({ maxRetries: -1 })).toBe('StsClient: option maxRetries must be a non-negative integer (got -1)');
    expect(message({ baseDelay: Number.NaN })).toBe('StsClient: option baseDelay must be a non-negative number (got NaN)');
    expect(message({ maxDelay: '5' as unknown as number })).toBe('StsClient: option maxDelay must be a non-negative number (got 5)');
    expect(message({ jitter: 'half' as 'full' })).toBe("StsClient: option jitter must be 'none', 'equal', 'full' or a function (got half)");
    expect(message({ maxRetries: 0, baseDelay: 0, maxDelay: 0.5, jitter: 'none' })).toBe('no error');
    expect(normalizeRetryPolicy({ maxRetries: 0, baseDelay: 1.5, maxDelay: 7, jitter: 'equal' })).toEqual({
      maxRetries: 0,
      baseDelayMs: 1.5,
      maxDelayMs: 7,
      jitter: 'equal',
    });
    for (const jitter of ['none', 'equal', 'full'] as const) expect(normalizeRetryPolicy({ jitter }).jitter).toBe(jitter);
    const fn = (d: number) => d;
    expect(normalizeRetryPolicy({ jitter: fn }).jitter).toBe(fn);
  });

  it('withRetries: retries only what isRetryable accepts, up to maxRetries, telling onRetry each retry and its delay', async () => {
    const seen: string[] = [];
    let calls = 0;
    const p = policy({ maxRetries: 2, baseDelayMs: 1, maxDelayMs: 1, jitter: 'none' });
    const error = await withRetries(
      async (n) => {
        calls += 1;
        seen.push(`attempt ${n}`);
        throw new Error(`boom ${n}`);
      },
      p,
      () => true,
      undefined,
      (e, retry, delay) => seen.push(`${e.message} -> retry ${retry} in ${delay}`),
    ).catch((e: unknown) => e);
    expect((error as Error).message).toBe('boom 3');
    expect(calls).toBe(3);
    expect(seen).toEqual(['attempt 1', 'boom 1 -> retry 1 in 1', 'attempt 2', 'boom 2 -> retry 2 in 1', 'attempt 3']);

    let once = 0;
    const notRetried = await withRetries(
      async () => {
        once += 1;
        throw new Error('final');
      },
      p,
      () => false,
      undefined,
    ).catch((e: unknown) => e);
    expect((notRetried as Error).message).toBe('final');
    expect(once).toBe(1);

    let n = 0;
    await expect(withRetries(async () => (++n < 2 ? Promise.reject(new Error('x')) : 'ok'), p, () => true, undefined)).resolves.toBe('ok');
  });

  it('withRetries: an abort during the backoff ends it at once with the reason, without another attempt', async () => {
    const controller = new AbortController();
    let calls = 0;
    const started = Date.now();
    const pending = withRetries(
      async () => {
        calls += 1;
        throw new Error('retry me');
      },
      policy({ maxRetries: 3, baseDelayMs: 10_000, maxDelayMs: 10_000, jitter: 'none' }),
      () => true,
      controller.signal,
      () => setTimeout(() => controller.abort(new Error('stop')), 20),
    );
    const error = await pending.catch((e: unknown) => e);
    expect((error as Error).message).toBe('stop');
    expect(calls).toBe(1);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('withRetries: the backoff really waits its delay', async () => {
    const started = Date.now();
    let n = 0;
    await withRetries(
      async () => (++n < 2 ? Promise.reject(new Error('x')) : 'ok'),
      policy({ maxRetries: 1, baseDelayMs: 150, maxDelayMs: 150, jitter: 'none' }),
      () => true,
      undefined,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('withRetries: a backoff that ran its course leaves no abort listener on the signal', async () => {
    const controller = new AbortController();
    let n = 0;
    await withRetries(
      async () => (++n < 3 ? Promise.reject(new Error('x')) : 'ok'),
      policy({ maxRetries: 3, baseDelayMs: 5, maxDelayMs: 5, jitter: 'none' }),
      () => true,
      controller.signal,
    );
    expect(n).toBe(3);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});
