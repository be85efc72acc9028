import { maskUrl } from '../../credentials.js';
import { MetadataConfigError } from './errors.js';

/** Settings of the selected shared-config profile, as flat snake_case keys. */
export type ProfileSettings = Readonly<Record<string, string | undefined>>;

/** Where the profile settings come from: a value, or a function called once on first use. */
export type ProfileSettingsSource = ProfileSettings | (() => ProfileSettings | Promise<ProfileSettings>);

export const IMDS_IPV4_ENDPOINT = 'http://169.254.169.254';
export const IMDS_IPV6_ENDPOINT = 'http://[fd00:ec2::254]';

/** The environment variables and profile keys the instance-metadata provider reads, in one place. */
export const IMDS_SETTINGS = {
  disabledEnv: 'AWS_EC2_METADATA_DISABLED',
  v1DisabledEnv: 'AWS_EC2_METADATA_V1_DISABLED',
  v1DisabledProfile: 'ec2_metadata_v1_disabled',
  endpointEnv: 'AWS_EC2_METADATA_SERVICE_ENDPOINT',
  endpointProfile: 'ec2_metadata_service_endpoint',
  modeEnv: 'AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE',
  modeProfile: 'ec2_metadata_service_endpoint_mode',
} as const;

export interface ImdsEndpointInput {
  /** Explicit endpoint (the `endpoint` option); wins over everything. */
  readonly endpoint?: string | undefined;
  /** Explicit endpoint mode (the `endpointMode` option), `IPv4` or `IPv6`, any case. */
  readonly mode?: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly profile: ProfileSettings;
  /** Used in error messages. @default 'instance-metadata' */
  readonly providerName?: string;
}

/** A setting's value, with blank values treated as unset as the AWS SDKs do. */
export function settingValue(source: Readonly<Record<string, string | undefined>>, key: string): string | undefined {
  const value = source[key]?.trim();
  return value ? value : undefined;
}

/**
 * The IMDS base URL (no trailing slash), by the AWS SDKs' precedence: the explicit endpoint, then
 * `AWS_EC2_METADATA_SERVICE_ENDPOINT`, then the profile's `ec2_metadata_service_endpoint`; else the
 * endpoint mode (explicit, `AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE`, then the profile's
 * `ec2_metadata_service_endpoint_mode`; `IPv4` or `IPv6`, any case) picks the well-known address.
 * Pure: reads only its arguments.
 */
export function resolveImdsEndpoint(input: ImdsEndpointInput): string {
  const providerName = input.providerName ?? 'instance-metadata';
  const endpointSources: Array<[string, string | undefined]> = [
    ['option endpoint', input.endpoint?.trim() || undefined],
    [IMDS_SETTINGS.endpointEnv, settingValue(input.env, IMDS_SETTINGS.endpointEnv)],
    [`profile setting ${IMDS_SETTINGS.endpointProfile}`, settingValue(input.profile, IMDS_SETTINGS.endpointProfile)],
  ];
  for (const [setting, value] of endpointSources) {
    if (value !== undefined) return validEndpoint(value, setting, providerName);
  }

  const modeSources: Array<[string, string | undefined]> = [
    ['option endpointMode', input.mode?.trim() || undefined],
    [IMDS_SETTINGS.modeEnv, settingValue(input.env, IMDS_SETTINGS.modeEnv)],
    [`profile setting ${IMDS_SETTINGS.modeProfile}`, settingValue(input.profile, IMDS_SETTINGS.modeProfile)],
  ];
  for (const [setting, value] of modeSources) {
    if (value === undefined) continue;
    switch (value.toLowerCase()) {
      case 'ipv4':
        return IMDS_IPV4_ENDPOINT;
      case 'ipv6':
        return IMDS_IPV6_ENDPOINT;
      default:
        throw new MetadataConfigError(`${providerName}: ${setting}: \`${value}\` is not a valid endpoint mode (use IPv4 or IPv6)`, {
          providerName,
          setting,
        });
    }
  }
  return IMDS_IPV4_ENDPOINT;
}

function validEndpoint(value: string, setting: string, providerName: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new MetadataConfigError(`${providerName}: ${setting}: \`${maskUrl(value)}\` is not a valid URI (e.g. http://169.254.169.254)`, {
      providerName,
      setting,
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new MetadataConfigError(`${providerName}: ${setting}: \`${maskUrl(value)}\` must be an http:// or https:// URI`, { providerName, setting });
  }
  if (url.search || url.hash || url.username || url.password) {
    throw new MetadataConfigError(`${providerName}: ${setting}: \`${url.origin}…\` must not carry credentials, a query or a fragment`, {
      providerName,
      setting,
    });
  }
  // Keep a path prefix if one is given (a proxy may mount IMDS under one); drop the trailing slash.
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** The first setting that says "true" or "false" (any case) wins; any other value counts as unset. */
export function booleanSetting(sources: Array<[string, string | boolean | undefined]>): { value: boolean; setting: string } | undefined {
  for (const [setting, raw] of sources) {
    if (typeof raw === 'boolean') return { value: raw, setting };
    const text = raw?.trim().toLowerCase();
    if (text === 'true') return { value: true, setting };
    if (text === 'false') return { value: false, setting };
  }
  return undefined;
}

/** Reads a profile-settings source; its errors (e.g. a config file that does not parse) pass through unchanged. */
export async function loadProfileSettings(source: ProfileSettingsSource | undefined): Promise<ProfileSettings> {
  if (source === undefined) return {};
  return typeof source === 'function' ? await source() : source;
}
