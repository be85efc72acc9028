import { makeCredentials, type CredentialProvider, type Credentials } from '../credentials.js';
import { named } from '../provider.js';

/** One scripted answer: credentials to return, an error to throw, or a function computing either. */
export type MockAnswer = Credentials | Error | (() => Credentials | Promise<Credentials>);

export interface MockProvider extends CredentialProvider {
  /** How many times the provider was called. */
  readonly calls: number;
  /** Call times (from the clock given, else Date.now()). */
  readonly callTimes: readonly number[];
  invalidations: number;
  invalidate(): void;
  /** Forgets the recorded calls. */
  reset(): void;
}

export interface MockProviderOptions {
  name?: string;
  now?: () => number;
  /** Resolve after this many ms of real time (for concurrency tests). @default 0 */
  delayMs?: number;
}

/**
 * A provider for tests that records its calls. Given one answer it repeats it forever; given an
 * array it plays them in order and then repeats the last.
 */
export function mockProvider(answers: MockAnswer | readonly MockAnswer[], options: MockProviderOptions = {}): MockProvider {
  const script = Array.isArray(answers) ? [...answers] : [answers as MockAnswer];
  if (script.length === 0) throw new TypeError('mockProvider() needs at least one answer');
  const callTimes: number[] = [];
  const provider = named(options.name ?? 'mock', async () => {
    const answer = script[Math.min(callTimes.length, script.length - 1)]!;
    callTimes.push((options.now ?? Date.now)());
    if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
    if (answer instanceof Error) throw answer;
    const credentials = typeof answer === 'function' ? await answer() : answer;
    return makeCredentials(credentials);
  }) as unknown as MockProvider & { invalidations: number };
  Object.defineProperties(provider, {
    calls: { get: () => callTimes.length, enumerable: true },
    callTimes: { get: () => callTimes, enumerable: true },
  });
  provider.invalidations = 0;
  provider.invalidate = () => {
    provider.invalidations += 1;
  };
  provider.reset = () => {
    callTimes.length = 0;
    provider.invalidations = 0;
  };
  return provider;
}
