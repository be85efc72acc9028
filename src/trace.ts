import type { CredentialProvider } from './credentials.js';

/** One provider's part in a resolution, as `explain` reports it. */
export interface ProviderAttempt {
  readonly provider: string;
  readonly outcome: 'resolved' | 'skipped' | 'failed';
  readonly reason?: string;
}

/** Set on wrappers (like `refreshing`) so `explain` can look through them to the chain inside. */
export const INNER_PROVIDER = Symbol.for('credchain.innerProvider');
/** Set on chains: returns the attempts of the most recent resolution. */
export const LAST_ATTEMPTS = Symbol.for('credchain.lastAttempts');

type Inspectable = CredentialProvider & {
  [INNER_PROVIDER]?: CredentialProvider;
  [LAST_ATTEMPTS]?: () => readonly ProviderAttempt[] | undefined;
};

/** The attempts of the last resolution of the innermost chain behind `provider`, if any. */
export function lastAttemptsOf(provider: CredentialProvider): readonly ProviderAttempt[] | undefined {
  let current: Inspectable | undefined = provider;
  for (let depth = 0; current && depth < 16; depth += 1) {
    const attempts = current[LAST_ATTEMPTS]?.();
    if (attempts) return attempts;
    current = current[INNER_PROVIDER] as Inspectable | undefined;
  }
  return undefined;
}
