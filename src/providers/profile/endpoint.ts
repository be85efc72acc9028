import type { Env } from '../../config/files.js';
import type { ServicesSections } from '../../config/files.js';
import { KEY } from '../../config/keys.js';

/** Where a configured endpoint came from, for debug lines. */
export type ConfiguredEndpointSource = 'service-env' | 'global-env' | 'services-section' | 'profile';

export interface ConfiguredEndpoint {
  readonly url: string;
  readonly source: ConfiguredEndpointSource;
  /** The variable or key that set it, e.g. `AWS_ENDPOINT_URL_STS` or `[services x] sts.endpoint_url`. */
  readonly setting: string;
}

export interface ConfiguredEndpointInput {
  /** Service id as the SDKs spell it in env names and `[services]` keys, e.g. `sts`. */
  readonly serviceId: string;
  readonly env: Env;
  /** The selected profile's keys. */
  readonly profile: Readonly<Record<string, string>> | undefined;
  /** Every `[services x]` section of the config file. */
  readonly services: ServicesSections;
}

const IGNORE_ENV = 'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS';
const IGNORE_KEY = 'ignore_configured_endpoint_urls';

const nonBlank = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v.trim());
const isTrue = (v: string | undefined) => nonBlank(v)?.toLowerCase() === 'true';

/**
 * The endpoint a user configured for a service, by botocore's "configured endpoint URLs" rules
 * (the `configured_endpoint_urls/profile-tests.json` vectors): `AWS_ENDPOINT_URL_<SERVICE>`, then
 * `AWS_ENDPOINT_URL`, then the `[services]` section the profile names, then the profile's
 * `endpoint_url`. `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true` or the profile's
 * `ignore_configured_endpoint_urls = true` turns all of them off. `undefined`: use the default.
 * An endpoint passed in code beats all of these; the caller applies that.
 */
export function configuredEndpoint(input: ConfiguredEndpointInput): ConfiguredEndpoint | undefined {
  const { env, profile } = input;
  if (isTrue(env[IGNORE_ENV]) || isTrue(profile?.[IGNORE_KEY])) return undefined;
  const serviceEnv = `AWS_ENDPOINT_URL_${input.serviceId.toUpperCase().replace(/[ -]/g, '_')}`;
  const fromServiceEnv = nonBlank(env[serviceEnv]);
  if (fromServiceEnv !== undefined) return { url: fromServiceEnv, source: 'service-env', setting: serviceEnv };
  const fromGlobalEnv = nonBlank(env.AWS_ENDPOINT_URL);
  if (fromGlobalEnv !== undefined) return { url: fromGlobalEnv, source: 'global-env', setting: 'AWS_ENDPOINT_URL' };
  const sectionName = nonBlank(profile?.[KEY.services]);
  if (sectionName !== undefined) {
    const serviceKey = input.serviceId.toLowerCase().replace(/ /g, '_');
    const fromSection = nonBlank(input.services[sectionName]?.[serviceKey]?.[KEY.endpointUrl]);
    if (fromSection !== undefined) {
      return { url: fromSection, source: 'services-section', setting: `[services ${sectionName}] ${serviceKey}.${KEY.endpointUrl}` };
    }
  }
  const fromProfile = nonBlank(profile?.[KEY.endpointUrl]);
  if (fromProfile !== undefined) return { url: fromProfile, source: 'profile', setting: KEY.endpointUrl };
  return undefined;
}
