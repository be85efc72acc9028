import type { CredentialProvider, Credentials } from './credentials.js';
import { CredentialsNotFound, isNotFound, messageOf } from './errors.js';
import { invalidateProvider, named, providerNameOf } from './provider.js';
import { LAST_ATTEMPTS, type ProviderAttempt } from './trace.js';

/** Thrown when every provider of a chain said "not here": lists each one with its reason. */
export class NoCredentialsError extends CredentialsNotFound {
  override name = 'NoCredentialsError';
  constructor(readonly attempts: readonly ProviderAttempt[]) {
    super(
      [
        'Could not find AWS credentials. Attempted:',
        // Providers' messages start with their own name (`token-file: ...`): say it once.
        ...attempts.map((a) => `  - ${a.provider}: ${withoutPrefix(a.reason ?? a.outcome, a.provider)}`),
      ].join('\n'),
      { providerName: 'chain' },
    );
  }
}

function withoutPrefix(reason: string, provider: string): string {
  return reason.startsWith(`${provider}: `) ? reason.slice(provider.length + 2) : reason;
}

export interface ChainProvider extends CredentialProvider {
  /** Invalidates every provider of the chain that caches. */
  invalidate(): void;
}

/**
 * Tries providers in order; the first to resolve wins. Only `CredentialsNotFound` moves on to the
 * next provider: any other error is a real failure (bad config, access denied) and is thrown as is,
 * so a misconfigured profile surfaces its own message rather than a generic one.
 */
export function chain(...providers: CredentialProvider[]): ChainProvider {
  if (providers.length === 0) throw new TypeError('chain() needs at least one provider');
  const names = providers.map((p, i) => providerNameOf(p, `provider #${i + 1}`));
  let lastAttempts: ProviderAttempt[] | undefined;

  const resolve = async (): Promise<Credentials> => {
    const attempts: ProviderAttempt[] = [];
    lastAttempts = attempts;
    for (const [i, provider] of providers.entries()) {
      const name = names[i]!;
      try {
        const credentials = await provider();
        attempts.push({ provider: name, outcome: 'resolved' });
        return credentials;
      } catch (error) {
        if (isNotFound(error)) {
          attempts.push({ provider: name, outcome: 'skipped', reason: messageOf(error) });
          continue;
        }
        attempts.push({ provider: name, outcome: 'failed', reason: messageOf(error) });
        throw error;
      }
    }
    throw new NoCredentialsError(attempts);
  };

  const result = named(`chain(${names.join(', ')})`, resolve as ChainProvider);
  result.invalidate = () => providers.forEach(invalidateProvider);
  Object.defineProperty(result, LAST_ATTEMPTS, { value: () => lastAttempts, enumerable: false });
  return result;
}
