import { maskUrl } from '../credentials.js';
import { CredentialsError } from '../errors.js';
import type { FullLogger } from '../logger.js';

/** Where STS calls go and how they are signed. */
export interface StsEndpoint {
  /** Origin (and optional base path) the request is POSTed to. */
  url: URL;
  /** The SigV4 signing region. */
  signingRegion: string;
  /** Where the URL came from, for debug lines. */
  source: 'option' | 'AWS_ENDPOINT_URL_STS' | 'AWS_ENDPOINT_URL' | 'regional' | 'global' | 'fips';
}

export interface RegionSources {
  region?: string;
  env: Readonly<Record<string, string | undefined>>;
  profileRegion?: () => Promise<string | undefined>;
  /** The last link: the instance's region from IMDS (`regionFromInstanceMetadata`), when one is wired. */
  instanceRegion?: () => Promise<string | undefined>;
}

export const GLOBAL_REGION = 'aws-global';
const DEFAULT_SIGNING_REGION = 'us-east-1';

/** Region: option → `AWS_REGION` → `AWS_DEFAULT_REGION` → the profile's region → the instance's; undefined when none is set. */
export async function resolveRegion(sources: RegionSources): Promise<string | undefined> {
  const fromEnv = sources.region || sources.env.AWS_REGION || sources.env.AWS_DEFAULT_REGION;
  if (fromEnv) return fromEnv;
  return (await sources.profileRegion?.()) || (await sources.instanceRegion?.()) || undefined;
}

/** DNS suffix of the partition a region belongs to (the partition table of the AWS SDKs, in short). */
export function dnsSuffixFor(region: string): string {
  if (region.startsWith('cn-')) return 'amazonaws.com.cn';
  if (region.startsWith('us-isob-')) return 'sc2s.sgov.gov';
  if (region.startsWith('us-isof-')) return 'csp.hci.ic.gov';
  if (region.startsWith('us-iso-')) return 'c2s.ic.gov';
  if (region.startsWith('eu-isoe-')) return 'cloud.adc-e.uk';
  return 'amazonaws.com';
}

const REGION_PATTERN = /^[a-z0-9-]{1,63}$/;

function parseEndpoint(value: string, from: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CredentialsError(`StsClient: ${from} is not a valid URL (\`${maskUrl(value)}\`); expected e.g. https://sts.us-west-2.amazonaws.com`, {
      providerName: 'sts',
    });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new CredentialsError(`StsClient: ${from} must be an http(s) URL (got \`${maskUrl(value)}\`)`, { providerName: 'sts' });
  return url;
}

function envFlag(value: string | undefined): boolean {
  return value?.trim().toLowerCase() === 'true';
}

export interface EndpointSources {
  /** The resolved region, or undefined when nothing configured one. */
  region: string | undefined;
  endpoint?: string;
  useFipsEndpoint?: boolean;
  env: Readonly<Record<string, string | undefined>>;
  logger: FullLogger;
}

/**
 * The endpoint and signing region, following the AWS SDKs: an explicit `endpoint`, then
 * `AWS_ENDPOINT_URL_STS`, then `AWS_ENDPOINT_URL` (both ignored when
 * `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`), then the regional endpoint of the region's partition,
 * FIPS when asked (`useFipsEndpoint` or `AWS_USE_FIPS_ENDPOINT=true`). With no region at all:
 * us-east-1 and the global endpoint, so a role profile works on a laptop with no region set.
 */
export function resolveEndpoint(s: EndpointSources): StsEndpoint {
  if (s.region !== undefined && s.region !== GLOBAL_REGION && !REGION_PATTERN.test(s.region))
    throw new CredentialsError(`StsClient: region "${s.region}" is not a valid region name (e.g. us-west-2)`, { providerName: 'sts' });
  const signingRegion = s.region === undefined || s.region === GLOBAL_REGION ? DEFAULT_SIGNING_REGION : s.region;

  if (s.endpoint) return { url: parseEndpoint(s.endpoint, 'the endpoint option'), signingRegion, source: 'option' };
  if (!envFlag(s.env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS)) {
    for (const name of ['AWS_ENDPOINT_URL_STS', 'AWS_ENDPOINT_URL'] as const) {
      const value = s.env[name];
      if (value) return { url: parseEndpoint(value, name), signingRegion, source: name };
    }
  }

  const fips = s.useFipsEndpoint ?? envFlag(s.env.AWS_USE_FIPS_ENDPOINT);
  if (fips) {
    // GovCloud's regional STS endpoints are already FIPS endpoints.
    const host = signingRegion.startsWith('us-gov-')
      ? `sts.${signingRegion}.amazonaws.com`
      : `sts-fips.${signingRegion}.${dnsSuffixFor(signingRegion)}`;
    return { url: new URL(`https://${host}`), signingRegion, source: 'fips' };
  }
  if (s.region === undefined || s.region === GLOBAL_REGION) {
    if (s.region === undefined)
      s.logger.debug('sts: no region configured (option, AWS_REGION, AWS_DEFAULT_REGION, profile); using us-east-1 and https://sts.amazonaws.com');
    return { url: new URL('https://sts.amazonaws.com'), signingRegion, source: 'global' };
  }
  return { url: new URL(`https://sts.${signingRegion}.${dnsSuffixFor(signingRegion)}`), signingRegion, source: 'regional' };
}
