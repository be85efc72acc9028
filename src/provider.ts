import type { CredentialProvider } from './credentials.js';

/** A provider that can be told to forget what it cached (see `refreshing`). */
export interface InvalidatableProvider extends CredentialProvider {
  invalidate(): void;
}

const NAME = Symbol.for('credchain.providerName');

/** Attaches a display name (used by `chain`, `explain` and error messages) to a provider. */
export function named<P extends CredentialProvider>(name: string, provider: P): P {
  Object.defineProperty(provider, NAME, { value: name, enumerable: false, configurable: true });
  return provider;
}

/** The display name of a provider: its `named()` name, else its function name, else the fallback. */
export function providerNameOf(provider: CredentialProvider, fallback = 'provider'): string {
  const explicit = (provider as unknown as Record<symbol, unknown>)[NAME];
  if (typeof explicit === 'string') return explicit;
  return provider.name && provider.name !== 'anonymous' ? provider.name : fallback;
}

/** Calls `invalidate()` on a provider when it has one. */
export function invalidateProvider(provider: CredentialProvider): void {
  const maybe = provider as Partial<InvalidatableProvider>;
  if (typeof maybe.invalidate === 'function') maybe.invalidate();
}
