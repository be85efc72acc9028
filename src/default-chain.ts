import { chain } from './chain.js';
import type { Clock } from './clock.js';
import type { CredentialProvider } from './credentials.js';
import { lazyProvider, loadHeavy } from './lazy.js';
import type { Logger } from './logger.js';
import { refreshing, type RefreshingOptions, type RefreshingProvider } from './refreshing.js';
import { fromEnv } from './providers/env.js';
import type { FromIniOptions, IniStsOptions } from './providers/profile/index.js';
import { fromTokenFile, type TokenFileOptions } from './providers/sts/index.js';
import type { ContainerMetadataOptions, InstanceMetadataOptions } from './providers/metadata/index.js';

export interface DefaultChainOptions {
  /**
   * The profile to use. Given here (or with the CLI's `--profile`), it also skips the environment
   * variables link, as botocore does for an explicit profile; `AWS_PROFILE` only selects the profile.
   */
  readonly profile?: string;
  /** The region for STS calls (role hops, web identity). Default: `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`. */
  readonly region?: string;
  /** Debug lines and warnings from every link; never a secret. */
  readonly logger?: Logger;
  /** Asked for a fresh MFA code when a profile with `mfa_serial` is assumed (once per renewal). */
  readonly tokenCode?: FromIniOptions['tokenCode'];
  /** The environment every link reads. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Clock for every link and the cache. @default Date.now */
  readonly now?: Clock;
  /** Shared config file paths (default `AWS_CONFIG_FILE`, `~/.aws/config`, ...). */
  readonly configFile?: string;
  readonly credentialsFile?: string;
  /** STS client settings for role hops and web identity (e.g. `endpoint`, `maxRetries`). */
  readonly sts?: IniStsOptions;
  /** Per-provider options. */
  readonly ini?: Omit<FromIniOptions, 'profile' | 'env' | 'logger' | 'now' | 'tokenCode' | 'sts'>;
  readonly tokenFile?: Omit<TokenFileOptions, 'env' | 'logger' | 'now'>;
  readonly containerMetadata?: Omit<ContainerMetadataOptions, 'env' | 'logger' | 'now'>;
  readonly instanceMetadata?: Omit<InstanceMetadataOptions, 'env' | 'logger' | 'now'>;
  /** On-disk session cache of the profile link (see `FromIniOptions.diskCache`). Default: `CREDCHAIN_DISK_CACHE`, else off. */
  readonly diskCache?: FromIniOptions['diskCache'];
  /** Tuning of the refreshing cache around the chain. */
  readonly refresh?: Omit<RefreshingOptions, 'now' | 'logger'>;
}

/**
 * The AWS CLI v2 / botocore chain, in one `refreshing` cache: environment variables, the shared
 * config profile, the web identity token file, container metadata, instance metadata. Call it once
 * at start-up and pass the result to every client: they share one resolution and one renewal.
 * Each link's code loads when the chain first reaches it.
 */
export function defaultChain(options: DefaultChainOptions = {}): RefreshingProvider {
  const env = options.env ?? process.env;
  const common = {
    env,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.now ? { now: options.now } : {}),
  };
  const region = options.region;
  // Which profile and files: the same for the profile link and for IMDS's profile settings.
  const selection = {
    ...(options.profile !== undefined ? { profile: options.profile } : {}),
    ...(options.configFile !== undefined ? { configFile: options.configFile } : {}),
    ...(options.credentialsFile !== undefined ? { credentialsFile: options.credentialsFile } : {}),
  };
  // The chain's metadata settings also serve a profile's `credential_source` (options.ini's win).
  const { profileSettings: _ignored, ...imdsForProfiles } = options.instanceMetadata ?? {};
  const metadataForProfiles = {
    ...(options.instanceMetadata || options.ini?.instanceMetadata ? { instanceMetadata: { ...imdsForProfiles, ...options.ini?.instanceMetadata } } : {}),
    ...(options.containerMetadata || options.ini?.containerMetadata
      ? { containerMetadata: { ...options.containerMetadata, ...options.ini?.containerMetadata } }
      : {}),
  };
  // STS calls of the profile and token-file links: region from the option, else the usual chain (env,
  // profile) with the instance's region from IMDS as its last link, asked only where IMDS already
  // answered in this process (off EC2 a fresh process would wait out the metadata timeout): else
  // us-east-1 and the global endpoint, as the AWS CLI does.
  const sts = {
    ...options.sts,
    env,
    ...(region ? { region } : {}),
    instanceRegion: async () =>
      (await loadHeavy()).regionFromInstanceMetadata({ ...imdsForProfiles, ...common, maxRetries: 0, onlyIfOnEc2: true }),
  };
  const links: CredentialProvider[] = [];
  if (options.profile === undefined) links.push(fromEnv({ env }));
  links.push(
    lazyProvider('ini', async () =>
      (await loadHeavy()).fromIni({
        ...options.ini,
        ...metadataForProfiles,
        ...common,
        ...selection,
        ...(options.tokenCode ? { tokenCode: options.tokenCode } : {}),
        ...(options.diskCache !== undefined ? { diskCache: options.diskCache } : {}),
        sts,
      }),
    ),
    lazyProvider('token-file', async () =>
      fromTokenFile({
        ...(region ? { region } : {}),
        sts,
        ...options.tokenFile,
        ...common,
        // The chain's own cache renews; a second cache inside would only add a window.
        refresh: false,
      }),
    ),
    lazyProvider('container-metadata', async () =>
      (await loadHeavy()).fromContainerMetadata({ ...options.containerMetadata, ...common }),
    ),
    lazyProvider('instance-metadata', async () => {
      const { fromInstanceMetadata, loadSharedConfig } = await loadHeavy();
      return fromInstanceMetadata({
        // The profile's ec2_metadata_* keys apply, as in the SDKs.
        profileSettings: async () => (await loadSharedConfig({ env, ...selection })).profile ?? {},
        ...options.instanceMetadata,
        ...common,
      });
    }),
  );
  return refreshing(chain(...links), {
    ...options.refresh,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.now ? { now: options.now } : {}),
    name: 'default chain',
  });
}
