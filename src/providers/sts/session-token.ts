import type { CredentialProvider } from '../../credentials.js';
import type { RefreshingProvider } from '../../refreshing.js';
import { optionError } from './errors.js';
import { callerDigestOf, privateScope } from './session-cache.js';
import { askTokenCode, checkMfaOptions, type MfaOptions } from './mfa.js';
import { resolveSource, sessionProvider, signedBy, stsClientFor, type RefreshTuning, type StsProviderOptions, type StsSessionProvider } from './provider.js';

export interface SessionTokenOptions extends StsProviderOptions, MfaOptions {
  /** Long-term IAM user keys (STS refuses `GetSessionToken` with session credentials). */
  readonly source: CredentialProvider;
  /** 900–129600; STS defaults to 43200. */
  readonly durationSeconds?: number;
}

const NAME = 'session-token';

/**
 * Temporary credentials for the IAM user behind `source` (`GetSessionToken`). With `mfaSerial` and
 * `tokenCode` they satisfy `aws:MultiFactorAuthPresent`: the MFA-protected API case. Comes wrapped
 * in `refreshing()`; `refresh: false` gives the bare provider.
 */
export function fromSessionToken(options: SessionTokenOptions & { readonly refresh: false }): StsSessionProvider;
export function fromSessionToken(options: SessionTokenOptions & { readonly refresh?: RefreshTuning }): RefreshingProvider;
export function fromSessionToken(options: SessionTokenOptions): StsSessionProvider;
export function fromSessionToken(options: SessionTokenOptions): StsSessionProvider | RefreshingProvider {
  const fn = 'fromSessionToken';
  if (options === null || typeof options !== 'object') throw optionError(NAME, fn, 'expects an options object with source');
  const { source } = options;
  if (typeof source !== 'function') throw optionError(NAME, fn, 'source must be a credential provider (a function) for the IAM user');
  checkMfaOptions(NAME, fn, options);
  const client = stsClientFor(options);
  // A session obtained with this provider's MFA code is shared with no other provider.
  const mfaScope = options.mfaSerial !== undefined ? privateScope() : null;
  const input = {
    ...(options.durationSeconds !== undefined ? { durationSeconds: options.durationSeconds } : {}),
    ...(options.mfaSerial !== undefined ? { serialNumber: options.mfaSerial } : {}),
  };
  const subject = options.mfaSerial !== undefined ? `a session with MFA device ${options.mfaSerial}` : 'a session';

  return sessionProvider({
    name: NAME,
    options,
    client,
    source,
    plan: async (state) => {
      const caller = await resolveSource(NAME, source, 'GetSessionToken');
      return {
        about: { providerName: NAME, operation: 'GetSessionToken', subject },
        keyParts: [await callerDigestOf(caller), input, mfaScope],
        disk: { caller, input },
        fetch: async () => {
          const tokenCode = await askTokenCode(NAME, options, state);
          return (await client.getSessionToken({ ...input, ...(tokenCode !== undefined ? { tokenCode } : {}) }, signedBy(caller))).credentials;
        },
      };
    },
  });
}
