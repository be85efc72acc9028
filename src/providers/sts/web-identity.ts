import { systemClock } from '../../clock.js';
import type { RefreshingProvider } from '../../refreshing.js';
import type { AssumeRoleWithWebIdentityInput, StsClient, StsPolicyDescriptor } from '../../sts/index.js';
import { callbackError, checkRoleArn, optionError } from './errors.js';
import { digestOf } from './session-cache.js';
import {
  defaultSessionName,
  pick,
  sessionProvider,
  stsClientFor,
  type RefreshTuning,
  type SessionPlan,
  type StsProviderOptions,
  type StsSessionProvider,
} from './provider.js';

/** The web identity parameters besides the token. */
export interface WebIdentityParameters {
  readonly roleArn: string;
  readonly roleSessionName?: string;
  /** Only for OAuth 2.0 providers (`www.amazon.com`, `graph.facebook.com`). */
  readonly providerId?: string;
  readonly policy?: string;
  readonly policyArns?: readonly StsPolicyDescriptor[];
  readonly durationSeconds?: number;
}

export interface WebIdentityOptions extends StsProviderOptions, WebIdentityParameters {
  /** The OIDC token, when it never changes. Give this or `getToken`. */
  readonly webIdentityToken?: string;
  /** Returns the current token; called again for every renewal. */
  readonly getToken?: () => Promise<string> | string;
}

const NAME = 'web-identity';

/**
 * Credentials from `AssumeRoleWithWebIdentity` (unsigned: the token is the proof). Comes wrapped in
 * `refreshing()`; `refresh: false` gives the bare provider. The session cache key holds a digest of
 * the token, so a new token never gets an old session.
 */
export function fromWebIdentity(options: WebIdentityOptions & { readonly refresh: false }): StsSessionProvider;
export function fromWebIdentity(options: WebIdentityOptions & { readonly refresh?: RefreshTuning }): RefreshingProvider;
export function fromWebIdentity(options: WebIdentityOptions): StsSessionProvider;
export function fromWebIdentity(options: WebIdentityOptions): StsSessionProvider | RefreshingProvider {
  const fn = 'fromWebIdentity';
  if (options === null || typeof options !== 'object') throw optionError(NAME, fn, 'expects an options object with roleArn and webIdentityToken or getToken');
  const { webIdentityToken, getToken } = options;
  checkRoleArn(NAME, fn, options.roleArn);
  if ((webIdentityToken === undefined) === (getToken === undefined))
    throw optionError(NAME, fn, `give exactly one of webIdentityToken (a string) and getToken (a function) for role ${options.roleArn}`);
  if (getToken !== undefined && typeof getToken !== 'function') throw optionError(NAME, fn, 'getToken must be a function returning the token');
  if (webIdentityToken !== undefined && (typeof webIdentityToken !== 'string' || webIdentityToken === ''))
    throw optionError(NAME, fn, `webIdentityToken must be a non-empty string (role ${options.roleArn})`);

  const roleSessionName = options.roleSessionName ?? defaultSessionName(options.now ?? systemClock);
  const client = stsClientFor(options);
  const parameters = { ...options, roleSessionName };
  const token = async (): Promise<string> => {
    if (webIdentityToken !== undefined) return webIdentityToken;
    let value: unknown;
    try {
      value = await getToken!();
    } catch (error) {
      throw callbackError(NAME, `getToken() for role ${options.roleArn}`, error);
    }
    if (typeof value !== 'string' || value === '')
      throw callbackError(NAME, `getToken() for role ${options.roleArn}`, new TypeError('it returned no token (expected a non-empty string)'));
    return value;
  };
  return sessionProvider({ name: NAME, options, client, plan: async () => webIdentityPlan(NAME, client, parameters, await token()) });
}

/** One `AssumeRoleWithWebIdentity` renewal (shared with `fromTokenFile`). */
export async function webIdentityPlan(
  providerName: string,
  client: StsClient,
  parameters: WebIdentityParameters & { readonly roleSessionName: string },
  webIdentityToken: string,
): Promise<SessionPlan> {
  const input: Omit<AssumeRoleWithWebIdentityInput, 'webIdentityToken'> = {
    roleArn: parameters.roleArn,
    roleSessionName: parameters.roleSessionName,
    ...pick(parameters, ['providerId', 'policy', 'policyArns', 'durationSeconds']),
  };
  return {
    about: { providerName, operation: 'AssumeRoleWithWebIdentity', roleArn: parameters.roleArn },
    keyParts: [await digestOf(webIdentityToken), input],
    fetch: async () => (await client.assumeRoleWithWebIdentity({ ...input, webIdentityToken })).credentials,
  };
}
