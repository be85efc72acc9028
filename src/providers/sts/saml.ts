import type { RefreshingProvider } from '../../refreshing.js';
import type { AssumeRoleWithSAMLInput, StsPolicyDescriptor } from '../../sts/index.js';
import { callbackError, checkRoleArn, optionError } from './errors.js';
import { digestOf } from './session-cache.js';
import { pick, sessionProvider, stsClientFor, type RefreshTuning, type StsProviderOptions, type StsSessionProvider } from './provider.js';

export interface SamlOptions extends StsProviderOptions {
  readonly roleArn: string;
  /** The ARN of the SAML provider in IAM that describes the IdP. */
  readonly principalArn: string;
  /** The base64 SAML response, or a function fetching a fresh one (called again for each renewal). */
  readonly samlAssertion: string | (() => Promise<string> | string);
  readonly policy?: string;
  readonly policyArns?: readonly StsPolicyDescriptor[];
  /**
   * 900–43200. The session lasts until the shorter of this and the assertion's
   * `SessionNotOnOrAfter`; STS reflects that in the expiration it returns, which is trusted as is.
   */
  readonly durationSeconds?: number;
}

const NAME = 'saml';

/**
 * Credentials from `AssumeRoleWithSAML` (unsigned: the assertion is the proof). Comes wrapped in
 * `refreshing()`; `refresh: false` gives the bare provider. The session cache key holds a digest of
 * the assertion.
 */
export function fromSaml(options: SamlOptions & { readonly refresh: false }): StsSessionProvider;
export function fromSaml(options: SamlOptions & { readonly refresh?: RefreshTuning }): RefreshingProvider;
export function fromSaml(options: SamlOptions): StsSessionProvider;
export function fromSaml(options: SamlOptions): StsSessionProvider | RefreshingProvider {
  const fn = 'fromSaml';
  if (options === null || typeof options !== 'object') throw optionError(NAME, fn, 'expects an options object with roleArn, principalArn and samlAssertion');
  const { roleArn, principalArn, samlAssertion } = options;
  checkRoleArn(NAME, fn, roleArn);
  if (typeof principalArn !== 'string' || principalArn.trim() === '') throw optionError(NAME, fn, `principalArn is missing or empty (role ${roleArn})`);
  if (!(typeof samlAssertion === 'function' || (typeof samlAssertion === 'string' && samlAssertion !== '')))
    throw optionError(NAME, fn, `samlAssertion must be a non-empty string or a function returning one (role ${roleArn})`);

  const client = stsClientFor(options);
  const input: Omit<AssumeRoleWithSAMLInput, 'samlAssertion'> = { roleArn, principalArn, ...pick(options, ['policy', 'policyArns', 'durationSeconds']) };
  const about = { providerName: NAME, operation: 'AssumeRoleWithSAML', roleArn };
  const assertion = async (): Promise<string> => {
    if (typeof samlAssertion === 'string') return samlAssertion;
    let value: unknown;
    try {
      value = await samlAssertion();
    } catch (error) {
      throw callbackError(NAME, `samlAssertion() for role ${roleArn}`, error);
    }
    if (typeof value !== 'string' || value === '')
      throw callbackError(NAME, `samlAssertion() for role ${roleArn}`, new TypeError('it returned no assertion (expected a non-empty base64 string)'));
    return value;
  };

  return sessionProvider({
    name: NAME,
    options,
    client,
    plan: async () => {
      const samlAssertion = await assertion();
      return {
        about,
        keyParts: [await digestOf(samlAssertion), input],
        fetch: async () => (await client.assumeRoleWithSAML({ ...input, samlAssertion })).credentials,
      };
    },
  });
}
