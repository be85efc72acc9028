import { systemClock } from '../../clock.js';
import type { CredentialProvider } from '../../credentials.js';
import type { RefreshingProvider } from '../../refreshing.js';
import type { AssumeRoleInput, StsPolicyDescriptor, StsTag } from '../../sts/index.js';
import { checkRoleArn, optionError } from './errors.js';
import { callerDigestOf, privateScope } from './session-cache.js';
import { askTokenCode, checkMfaOptions, type MfaOptions } from './mfa.js';
import {
  defaultSessionName,
  pick,
  resolveSource,
  sessionProvider,
  signedBy,
  stsClientFor,
  type RefreshTuning,
  type StsProviderOptions,
  type StsSessionProvider,
} from './provider.js';

export interface AssumeRoleOptions extends StsProviderOptions, MfaOptions {
  /** The role to assume, e.g. `arn:aws:iam::123456789012:role/deploy`. */
  readonly roleArn: string;
  /** The caller's own credentials; may itself be an assume-role provider (role chaining). */
  readonly source: CredentialProvider;
  /** @default `credchain-<epoch ms>`, fixed when the provider is created */
  readonly roleSessionName?: string;
  readonly externalId?: string;
  /** 900–43200; STS defaults to 3600 (and caps chained sessions at 3600). */
  readonly durationSeconds?: number;
  /** Inline session policy (JSON). */
  readonly policy?: string;
  readonly policyArns?: readonly StsPolicyDescriptor[];
  readonly tags?: readonly StsTag[];
  readonly transitiveTagKeys?: readonly string[];
  readonly sourceIdentity?: string;
}

const NAME = 'assume-role';

/**
 * Credentials of an assumed role (`AssumeRole`), signed with `source`. Comes wrapped in
 * `refreshing()`; `refresh: false` gives the bare provider. Sessions are shared through the
 * process-wide STS session cache.
 */
export function fromAssumeRole(options: AssumeRoleOptions & { readonly refresh: false }): StsSessionProvider;
export function fromAssumeRole(options: AssumeRoleOptions & { readonly refresh?: RefreshTuning }): RefreshingProvider;
export function fromAssumeRole(options: AssumeRoleOptions): StsSessionProvider;
export function fromAssumeRole(options: AssumeRoleOptions): StsSessionProvider | RefreshingProvider {
  if (options === null || typeof options !== 'object') throw optionError(NAME, 'fromAssumeRole', 'expects an options object with roleArn and source');
  const { roleArn, source } = options;
  checkRoleArn(NAME, 'fromAssumeRole', roleArn);
  if (typeof source !== 'function') throw optionError(NAME, 'fromAssumeRole', `source must be a credential provider (a function) for role ${roleArn}`);
  checkMfaOptions(NAME, 'fromAssumeRole', options);
  const roleSessionName = options.roleSessionName ?? defaultSessionName(options.now ?? systemClock);
  const client = stsClientFor(options);
  // A session obtained with this provider's MFA code is shared with no other provider.
  const mfaScope = options.mfaSerial !== undefined ? privateScope() : null;

  const input: Omit<AssumeRoleInput, 'tokenCode'> = {
    roleArn,
    roleSessionName,
    ...pick(options, ['externalId', 'durationSeconds', 'policy', 'policyArns', 'tags', 'transitiveTagKeys', 'sourceIdentity']),
    ...(options.mfaSerial !== undefined ? { serialNumber: options.mfaSerial } : {}),
  };
  const about = { providerName: NAME, operation: 'AssumeRole', roleArn };

  return sessionProvider({
    name: NAME,
    options,
    client,
    source,
    plan: async (state) => {
      const caller = await resolveSource(NAME, source, `role ${roleArn}`);
      return {
        about,
        keyParts: [await callerDigestOf(caller), input, mfaScope],
        disk: { caller, input: { ...input, roleSessionName: options.roleSessionName }, awsCliKey: true },
        fetch: async () => {
          const tokenCode = await askTokenCode(NAME, options, state);
          const out = await client.assumeRole({ ...input, ...(tokenCode !== undefined ? { tokenCode } : {}) }, signedBy(caller));
          return out.credentials;
        },
      };
    },
  });
}
