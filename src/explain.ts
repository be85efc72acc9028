import { maskAccessKeyId, type CredentialProvider, type Credentials } from './credentials.js';
import { isNotFound, messageOf } from './errors.js';
import { providerNameOf } from './provider.js';
import { extendedInfoOf, type ExtendedInfo } from './providers/metadata/stability.js';
import { INNER_PROVIDER, lastAttemptsOf, type ProviderAttempt } from './trace.js';

export interface Explanation {
  /** The provider that produced the credentials; absent when none did. */
  readonly winner?: string;
  /** Every provider asked, in order, with why it was skipped or failed. */
  readonly tried: readonly ProviderAttempt[];
  /** The access key id masked to its last 4 characters, e.g. `****MPLE`. */
  readonly accessKeyId?: string;
  readonly expiration?: Date;
  /** Set when the credentials came from a cache whose last renewal failed: that renewal's error. */
  readonly renewalError?: string;
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
  let tried: readonly ProviderAttempt[] = (lastAttemptsOf(provider) ?? [
    credentials
      ? { provider: providerNameOf(provider), outcome: 'resolved' }
      : { provider: providerNameOf(provider), outcome: isNotFound(failure) ? 'skipped' : 'failed', reason: messageOf(failure) },
  ]).map(withoutNamePrefix);
  // A cache (`refreshing`) can hand out credentials while its last renewal failed: the chain's last
  // attempts then show only that failure. Describe what the caller got: the resolution that produced
  // the cached credentials, and the failed renewal after it.
  const served = credentials && !tried.some((a) => a.outcome === 'resolved') ? servedFromCache(provider) : undefined;
  if (served) tried = served.attempts.map(withoutNamePrefix);
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
    ...(served?.lastError !== undefined ? { renewalError: served.lastError } : {}),
    toString() {
      const lines = tried.map((a) => {
        const mark = a.outcome === 'resolved' ? 'resolved' : a.outcome === 'skipped' ? 'skipped ' : 'FAILED  ';
        return `  ${mark} ${a.provider}${a.reason ? `: ${a.reason.replace(/\n/g, '\n      ')}` : ''}`;
      });
      const head = winner
        ? `Credentials from ${winner} (access key ${accessKeyId}${expiration ? `, expires ${expiration.toISOString()}` : ', no expiration'})${served ? `, cached by ${served.cache}` : ''}`
        : 'No credentials resolved.';
      const renewal = served?.lastError
        ? [`The last renewal failed; these cached credentials are served until they expire: ${served.lastError.replace(/\n/g, '\n      ')}`]
        : [];
      const ext = extended
        ? [`  ${extended.provider}: serving EXTENDED credentials since ${extended.since.toISOString()}; next attempt at ${extended.nextAttemptAt.toISOString()}`]
        : [];
      return [head, ...lines, ...renewal, ...ext].join('\n');
    },
  };
}

/** Reasons often start with the provider's own name ("token-file: ..."); the line already shows it. */
function withoutNamePrefix(attempt: ProviderAttempt): ProviderAttempt {
  const prefix = `${attempt.provider}: `;
  return attempt.reason?.startsWith(prefix) ? { ...attempt, reason: attempt.reason.slice(prefix.length) } : attempt;
}

const SERVED_ATTEMPTS = Symbol.for('credchain.servedAttempts');

interface Served {
  readonly cache: string;
  readonly attempts: readonly ProviderAttempt[];
  readonly lastError?: string;
}

/** The `refreshing` cache behind `provider` and the attempts that produced what it serves, if known. */
function servedFromCache(provider: CredentialProvider): Served | undefined {
  let current: CredentialProvider | undefined = provider;
  for (let depth = 0; current && depth < 16; depth += 1) {
    const record = current as unknown as Record<symbol, unknown> & { status?: () => { lastError?: string } };
    const attempts = (record[SERVED_ATTEMPTS] as (() => readonly ProviderAttempt[] | undefined) | undefined)?.();
    if (attempts) {
      const lastError = typeof record.status === 'function' ? record.status().lastError : undefined;
      return { cache: providerNameOf(current), attempts, ...(lastError !== undefined ? { lastError } : {}) };
    }
    current = record[INNER_PROVIDER] as CredentialProvider | undefined;
  }
  return undefined;
}
