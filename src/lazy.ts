import type { CredentialProvider } from './credentials.js';
import { named, invalidateProvider, type InvalidatableProvider } from './provider.js';
import { INNER_PROVIDER } from './trace.js';

/**
 * A provider whose implementation module loads on its first call. Importing the package root then
 * costs only the code every user runs; the metadata, config-file and process providers (and the
 * node modules they need) load when a chain first reaches them. Options are checked at that call.
 */
export function lazyProvider(name: string, build: () => Promise<CredentialProvider>): InvalidatableProvider {
  let inner: Promise<CredentialProvider> | undefined;
  let built: CredentialProvider | undefined;
  const load = () =>
    (inner ??= build().then(
      (provider) => (built = provider),
      (error: unknown) => {
        inner = undefined; // a failed load (bad options) is not remembered
        throw error;
      },
    ));
  const provider = named(name, async () => (await load())()) as InvalidatableProvider;
  provider.invalidate = () => {
    if (built) invalidateProvider(built);
  };
  Object.defineProperty(provider, INNER_PROVIDER, { get: () => built, enumerable: false });
  return provider;
}

type Heavy = typeof import('./heavy.js');
let heavy: Promise<Heavy> | undefined;
/** Loads, once, the half of the package that the root loads on first use (see heavy.ts). */
export const loadHeavy = (): Promise<Heavy> => (heavy ??= import('./heavy.js'));
