import type { CredentialProvider } from '../../credentials.js';
import type { RefreshingProvider } from '../../refreshing.js';
import type { GetFederationTokenInput, StsPolicyDescriptor, StsTag } from '../../sts/index.js';
import { optionError } from './errors.js';
import { callerDigestOf } from './session-cache.js';
import { pick, resolveSource, sessionProvider, signedBy, stsClientFor, type RefreshTuning, type StsProviderOptions, type StsSessionProvider } from './provider.js';

export interface FederationTokenOptions extends StsProviderOptions {
  /** Long-term IAM user keys (STS refuses `GetFederationToken` with session credentials). */
  readonly source: CredentialProvider;
  /** The federated user's name (2–32 characters), shown in its ARN. */
  readonly name: string;
  /** Inline session policy (JSON); without a policy the federated user can do nothing. */
  readonly policy?: string;
  readonly policyArns?: readonly StsPolicyDescriptor[];
  readonly tags?: readonly StsTag[];
  /** 900–129600; STS defaults to 43200. */
  readonly durationSeconds?: number;
}

const NAME = 'federation-token';

/**
 * Credentials of a federated user (`GetFederationToken`), signed with `source`. Comes wrapped in
 * `refreshing()`; `refresh: false` gives the bare provider.
 */
export function fromFederationToken(options: FederationTokenOptions & { readonly refresh: false }): StsSessionProvider;
export function fromFederationToken(options: FederationTokenOptions & { readonly refresh?: RefreshTuning }): RefreshingProvider;
export function fromFederationToken(options: FederationTokenOptions): StsSessionProvider;
export function fromFederationToken(options: FederationTokenOptions): StsSessionProvider | RefreshingProvider {
  const fn = 'fromFederationToken';
  if (options === null || typeof options !== 'object') throw optionError(NAME, fn, 'expects an options object with source and name');
  const { source, name } = options;
  if (typeof source !== 'function') throw optionError(NAME, fn, 'source must be a credential provider (a function) for the IAM user');
  if (typeof name !== 'string' || name.trim() === '') throw optionError(NAME, fn, 'name (the federated user name) is missing or empty');
  const client = stsClientFor(options);
  const input: GetFederationTokenInput = { name, ...pick(options, ['policy', 'policyArns', 'tags', 'durationSeconds']) };
  const about = { providerName: NAME, operation: 'GetFederationToken', subject: `federated user ${name}` };

  return sessionProvider({
    name: NAME,
    options,
    client,
    source,
    plan: async () => {
      const caller = await resolveSource(NAME, source, `federated user ${name}`);
      return { about, keyParts: [await callerDigestOf(caller), input], fetch: async () => (await client.getFederationToken(input, signedBy(caller))).credentials };
    },
  });
}
