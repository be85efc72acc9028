import { maskAccessKeyId, type CredentialProvider, type Credentials } from './credentials.js';
import { isNotFound, messageOf } from './errors.js';
import { providerNameOf } from './provider.js';
import { extendedInfoOf, type ExtendedInfo } from './providers/metadata-stability.js';
import { lastAttemptsOf, type ProviderAttempt } from './trace.js';

export interface Explanation {
  /** The provider that produced the credentials; absent when none did. */
  readonly winner?: string;
  /** Every provider asked, in order, with why it was skipped or failed. */
  readonly tried: readonly ProviderAttempt[];
  /** The access key id masked to its last 4 characters, e.g. `****MPLE`. */
  readonly accessKeyId?: string;
  readonly expiration?: Date;
  /** Set while a metadata provider serves EXTENDED credentials (static stability: its source is down). */
  readonly extended?: ExtendedInfo;
  /** A few readable lines; what `credchain explain` prints. */
  toString(): string;
}

/**
 * Resolves `provider` and reports which link of the chain inside it won and why each earlier one was
 * skipped. Never throws for a failed resolution: the failure is part of the explanation.
 */
export async function explain(provider: CredentialProvider): Promise<Explanation> {
  let credentials: Credentials | undefined;
  let failure: unknown;
  try {
    credentials = await provider();
  } catch (error) {
    failure = error;
  }
  const tried: readonly ProviderAttempt[] = (lastAttemptsOf(provider) ?? [
    credentials
      ? { provider: providerNameOf(provider), outcome: 'resolved' }
      : { provider: providerNameOf(provider), outcome: isNotFound(failure) ? 'skipped' : 'failed', reason: messageOf(failure) },
  ]).map(withoutNamePrefix);
  const winner = credentials ? tried.find((a) => a.outcome === 'resolved')?.provider : undefined;
  const accessKeyId = credentials ? maskAccessKeyId(credentials.accessKeyId) : undefined;
  const expiration = credentials?.expiration;
  const extended = credentials ? extendedInfoOf(provider, credentials) : undefined;
  return {
    ...(extended ? { extended } : {}),
    ...(winner !== undefined ? { winner } : {}),
    tried,
    ...(accessKeyId !== undefined ? { accessKeyId } : {}),
    ...(expiration ? { expiration } : {}),
    toString() {
      const lines = tried.map((a) => {
        const mark = a.outcome === 'resolved' ? 'resolved' : a.outcome === 'skipped' ? 'skipped ' : 'FAILED  ';
        return `  ${mark} ${a.provider}${a.reason ? `: ${a.reason.replace(/\n/g, '\n      ')}` : ''}`;
      });
      const head = winner
        ? `Credentials from ${winner} (access key ${accessKeyId}${expiration ? `, expires ${expiration.toISOString()}` : ', no expiration'})`
        : 'No credentials resolved.';
      const ext = extended
        ? [`  ${extended.provider}: serving EXTENDED credentials since ${extended.since.toISOString()}; next attempt at ${extended.nextAttemptAt.toISOString()}`]
        : [];
      return [head, ...lines, ...ext].join('\n');
    },
  };
}

/** Reasons often start with the provider's own name ("token-file: ..."); the line already shows it. */
function withoutNamePrefix(attempt: ProviderAttempt): ProviderAttempt {
  const prefix = `${attempt.provider}: `;
  return attempt.reason?.startsWith(prefix) ? { ...attempt, reason: attempt.reason.slice(prefix.length) } : attempt;
}
