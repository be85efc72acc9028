import type { Clock } from '../../clock.js';
import type { CredentialProvider, Credentials } from '../../credentials.js';
import { isNotFound } from '../../errors.js';
import { loadSharedConfig, type Env, type SharedConfig, type SharedConfigOptions } from '../../config/files.js';
import { ProfileConfigError } from '../../config/errors.js';
import { KEY } from '../../config/keys.js';
import { planProfile, type BaseSource, type CredentialPlan } from '../../config/plan.js';
import { toFullLogger, type FullLogger, type Logger } from '../../logger.js';
import { invalidateProvider, named, type InvalidatableProvider } from '../../provider.js';
import { refreshing } from '../../refreshing.js';
import type { StsClientOptions } from '../../sts/client.js';
import { fromEnv } from '../env.js';
import { fromContainerMetadata, fromInstanceMetadata, type ContainerMetadataOptions, type InstanceMetadataOptions } from '../metadata/index.js';
import { fromProcess } from '../process/index.js';
import { fromSso, type FromSsoOptions } from '../sso/index.js';
import { fromLogin, type FromLoginOptions } from '../login/index.js';
import { fromAssumeRole, fromTokenFile, type TokenCodeFn } from '../sts/index.js';
import { configuredEndpoint } from './endpoint.js';
import { ProfileCredentialsError } from './errors.js';

/**
 * `fromIni`: credentials of a profile of the shared config and credentials files, resolved the way
 * the AWS CLI does. Three steps: load the files (cached by mtime), plan the profile (base source +
 * role hops, `planProfile`), build providers from the plan and run them.
 *
 * Renewal: every call re-checks the two files (one `stat` each) and re-plans only when one changed;
 * the built providers are kept while the plan stays the same, so an edit elsewhere in the files does
 * not throw away STS sessions, and an edit to the profile takes effect at the next call. fromIni is
 * therefore NOT wrapped in `refreshing`: each part caches where caching pays (role hops and web
 * identity are refreshing providers already, `credential_process` and metadata sources get wrapped
 * here); static keys need no cache. Wrap the result in `refreshing` (as the default chain does) and
 * a changed file is picked up at the next renewal instead of the next call.
 */

/** STS client settings for the role hops and web identity (endpoint, retries, timeouts, agent…). */
export type IniStsOptions = Omit<StsClientOptions, 'credentials' | 'region' | 'env' | 'now' | 'logger' | 'profileRegion' | 'stub'>;

export interface FromIniOptions extends SharedConfigOptions {
  /**
   * Asked for a fresh MFA code each time a role whose profile sets `mfa_serial` is assumed (once per
   * renewal). Without it, such a profile fails before any request is sent.
   */
  readonly tokenCode?: (mfaSerial: string) => ReturnType<TokenCodeFn>;
  /** Debug lines (which profile, which sources) and warnings; never a secret. */
  readonly logger?: Logger;
  /** Clock for expiry checks and renewal. @default Date.now */
  readonly now?: Clock;
  /**
   * STS client settings for the role hops and web identity. `endpoint` here wins over the configured
   * ones (`AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`, `[services]` sts `endpoint_url`, `endpoint_url`).
   */
  readonly sts?: IniStsOptions;
  /** Time allowed for a `credential_process` command. @default 60_000 */
  readonly processTimeoutMs?: number;
  /** Settings for `credential_source = Ec2InstanceMetadata` (the profile's `ec2_metadata_*` keys apply too). */
  readonly instanceMetadata?: Omit<InstanceMetadataOptions, 'env' | 'profileSettings' | 'now' | 'logger'>;
  /** Settings for `credential_source = EcsContainer`. */
  readonly containerMetadata?: Omit<ContainerMetadataOptions, 'env' | 'now' | 'logger'>;
  /**
   * Settings for SSO profiles. `endpoint` here wins over the configured ones (`AWS_ENDPOINT_URL_SSO`,
   * `AWS_ENDPOINT_URL`, `[services]` sso `endpoint_url`, `endpoint_url`) and the default
   * `https://portal.sso.<sso_region>.amazonaws.com`.
   */
  readonly sso?: IniSsoOptions;
  /**
   * Settings for `login_session` profiles (`aws login`). `endpoint` here wins over `AWS_ENDPOINT_URL_SIGNIN`,
   * `AWS_ENDPOINT_URL`, `[services]` signin `endpoint_url`, `endpoint_url` and `https://<region>.signin.aws.amazon.com`.
   */
  readonly login?: Pick<FromLoginOptions, 'endpoint' | 'cacheDir' | 'timeoutMs' | 'agent'>;
  /**
   * Keep role sessions and expiring `credential_process` output on disk, shared by processes and with
   * the AWS CLI: `true` (`~/.aws/cli/cache`) or `{ dir }`. Default: `CREDCHAIN_DISK_CACHE`, else off.
   */
  readonly diskCache?: import('../../cache/disk.js').DiskCacheOption;
}

/** Portal and token-cache settings for SSO profiles (the rest comes from the profile). */
export type IniSsoOptions = Pick<FromSsoOptions, 'endpoint' | 'oidcEndpoint' | 'tokenCacheDir' | 'timeoutMs' | 'agent'>;

const PROVIDER = 'ini';

interface Built {
  /** Identity of the parsed files and selection this was built from: the fast path compares these. */
  readonly profiles: SharedConfig['profiles'];
  readonly ssoSessions: SharedConfig['ssoSessions'];
  readonly services: SharedConfig['services'];
  readonly profileName: string;
  readonly configPath: string;
  readonly credentialsPath: string;
  /** The environment variables the STS settings read, as they were (see ENV_SETTINGS). */
  readonly envStamp: string;
  /** The plan and STS settings that change the result, secrets left out (see samePlan). */
  readonly fingerprint: string;
  readonly plan: CredentialPlan;
  readonly where: (profileName: string) => string;
  readonly provider: Promise<CredentialProvider>;
  /** Providers created for this plan that cache, for `invalidate()`. */
  readonly caching: CredentialProvider[];
}

/** Resolves credentials from a profile of the shared config/credentials files. See the module comment. */
export function fromIni(options: FromIniOptions = {}): InvalidatableProvider {
  const log = toFullLogger(options.logger);
  let built: Built | undefined;

  const current = async (): Promise<Built> => {
    const config = await loadSharedConfig(options);
    const env = options.env ?? process.env;
    const envStamp = envStampOf(env);
    const last = built;
    if (
      last !== undefined &&
      last.envStamp === envStamp &&
      last.profiles === config.profiles &&
      last.ssoSessions === config.ssoSessions &&
      last.services === config.services &&
      last.profileName === config.profileName &&
      last.configPath === config.configPath &&
      last.credentialsPath === config.credentialsPath
    ) {
      return last;
    }
    const plan = planProfile(config);
    const sts = stsSettings(config, plan, env, options);
    const fingerprint = fingerprintOf(plan, sts);
    const where = (name: string) => whereDefined(config, name);
    if (last !== undefined && last.fingerprint === fingerprint && sameStaticKeys(last.plan, plan)) {
      built = { ...last, profiles: config.profiles, ssoSessions: config.ssoSessions, services: config.services, envStamp, where };
      return built;
    }
    if (last !== undefined) {
      log.debug(`ini: the settings of profile \`${plan.profileName}\` changed; building its providers again`);
      last.caching.forEach(invalidateProvider);
    }
    for (const warning of config.warnings) log.debug(`ini: ${warning}`);
    for (const note of plan.notes ?? []) log.debug(`ini: ${note}`);
    checkMfa(plan, options, where);
    const caching: CredentialProvider[] = [];
    const provider = buildProviders(plan, config, sts, env, options, caching);
    // A failed build (e.g. a module that cannot load) is retried at the next call.
    provider.catch(() => {
      if (built?.provider === provider) built = undefined;
    });
    log.debug(`ini: profile \`${plan.profileName}\`: ${describePlan(plan)}`);
    built = {
      profiles: config.profiles,
      ssoSessions: config.ssoSessions,
      services: config.services,
      profileName: config.profileName,
      configPath: config.configPath,
      credentialsPath: config.credentialsPath,
      envStamp,
      fingerprint,
      plan,
      where,
      provider,
      caching,
    };
    return built;
  };

  const resolve = async (): Promise<Credentials> => {
    const { plan, where, provider } = await current();
    try {
      return await (await provider)();
    } catch (error) {
      throw explainFailure(error, plan, where);
    }
  };

  const result = named(PROVIDER, resolve as InvalidatableProvider);
  result.invalidate = () => built?.caching.forEach(invalidateProvider);
  return result;
}

// ---- build: plan -> providers ------------------------------------------------------------------

interface StsSettings {
  /** Region for every STS call of the chain: AWS_REGION, AWS_DEFAULT_REGION, then the selected profile's. */
  readonly region: string | undefined;
  readonly endpoint: string | undefined;
  readonly client: IniStsOptions;
  /** The SSO portal endpoint when one is given or configured; otherwise fromSso picks the regional one. */
  readonly ssoEndpoint: string | undefined;
  readonly ssoOidcEndpoint: string | undefined;
  readonly signinEndpoint: string | undefined;
}

function nonBlank(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

/**
 * botocore creates the STS client of a profile's role chain with the session's region (the
 * environment, then the selected profile's `region`) and the selected profile's configured endpoint.
 * Both are computed here and passed explicitly, so the STS client's own env lookups agree.
 */
function stsSettings(config: SharedConfig, plan: CredentialPlan, env: Env, options: FromIniOptions): StsSettings {
  const region = nonBlank(env.AWS_REGION) ?? nonBlank(env.AWS_DEFAULT_REGION) ?? plan.region;
  const endpoint = options.sts?.endpoint ?? configuredEndpoint({ serviceId: 'sts', env, profile: config.profile, services: config.services })?.url;
  const ssoEndpoint = options.sso?.endpoint ?? configuredEndpoint({ serviceId: 'sso', env, profile: config.profile, services: config.services })?.url;
  const ssoOidcEndpoint = options.sso?.oidcEndpoint ?? configuredEndpoint({ serviceId: 'sso oidc', env, profile: config.profile, services: config.services })?.url;
  const signinEndpoint = options.login?.endpoint ?? configuredEndpoint({ serviceId: 'signin', env, profile: config.profile, services: config.services })?.url;
  return { region, endpoint, client: options.sts ?? {}, ssoEndpoint, ssoOidcEndpoint, signinEndpoint };
}

/**
 * The variables stsSettings reads (region, configured endpoint). Part of the per-call fast-path check,
 * so a change is seen at the next call without any file changing: four lookups and a string compare.
 */
const ENV_SETTINGS = [
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_ENDPOINT_URL_STS',
  'AWS_ENDPOINT_URL_SSO',
  'AWS_ENDPOINT_URL_SSO_OIDC',
  'AWS_ENDPOINT_URL_SIGNIN',
  'AWS_LOGIN_CACHE_DIRECTORY',
  'AWS_ENDPOINT_URL',
  'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS',
] as const;

function envStampOf(env: Env): string {
  let stamp = '';
  for (const name of ENV_SETTINGS) stamp += `${env[name] ?? ''}\0`;
  return stamp;
}

/** Everything but the static keys' values, which stay out of any string (sameStaticKeys compares them). */
function fingerprintOf(plan: CredentialPlan, sts: StsSettings): string {
  const base = plan.base;
  const baseParts = base.kind === 'static' ? [base.credentials.accessKeyId, base.credentials.accountId] : [base];
  return JSON.stringify([base.kind, base.profileName, baseParts, plan.roleHops, sts.region, sts.endpoint, sts.ssoEndpoint, sts.ssoOidcEndpoint, sts.signinEndpoint]);
}

function sameStaticKeys(a: CredentialPlan, b: CredentialPlan): boolean {
  if (a.base.kind !== 'static' || b.base.kind !== 'static') return a.base.kind === b.base.kind;
  return a.base.credentials.secretAccessKey === b.base.credentials.secretAccessKey && a.base.credentials.sessionToken === b.base.credentials.sessionToken;
}

function checkMfa(plan: CredentialPlan, options: FromIniOptions, where: (name: string) => string): void {
  if (options.tokenCode !== undefined) return;
  const hop = plan.roleHops.find((h) => h.mfaSerial !== undefined);
  if (hop === undefined) return;
  throw new ProfileConfigError(
    hop.profileName,
    `Profile \`${hop.profileName}\` (${where(hop.profileName)}) sets mfa_serial = ${hop.mfaSerial}, so assuming ${hop.roleArn} needs an MFA code, ` +
      'but no tokenCode function was given; pass fromIni({ tokenCode: async (serial) => promptForCode(serial) }).',
    KEY.mfaSerial,
  );
}

async function buildProviders(
  plan: CredentialPlan,
  config: SharedConfig,
  sts: StsSettings,
  env: Env,
  options: FromIniOptions,
  caching: CredentialProvider[],
): Promise<CredentialProvider> {
  const cache = (p: CredentialProvider) => {
    const r = refreshing(p, { now: options.now, logger: options.logger });
    caching.push(r);
    return r;
  };
  if (options.diskCache !== undefined || env.CREDCHAIN_DISK_CACHE) options = { ...options, diskCache: (await import('../../cache/disk.js')).resolveDiskCache(options.diskCache, env) ?? false };
  let provider = await buildBase(plan.base, config, sts, env, options, cache);
  if (plan.roleHops.length === 0) return provider;
  for (const hop of plan.roleHops) {
    provider = fromAssumeRole({
      roleArn: hop.roleArn,
      source: provider,
      ...(hop.roleSessionName !== undefined ? { roleSessionName: hop.roleSessionName } : {}),
      ...(hop.externalId !== undefined ? { externalId: hop.externalId } : {}),
      ...(hop.durationSeconds !== undefined ? { durationSeconds: hop.durationSeconds } : {}),
      ...(hop.mfaSerial !== undefined ? { mfaSerial: hop.mfaSerial, tokenCode: () => options.tokenCode!(hop.mfaSerial!) } : {}),
      ...stsProviderOptions(sts, env, options),
      ...(options.diskCache ? { diskCache: options.diskCache } : {}),
    });
    caching.push(provider);
  }
  return provider;
}

/** What every STS-backed provider of the plan gets: one region, one endpoint, the caller's clock and logger. */
function stsProviderOptions(sts: StsSettings, env: Env, options: FromIniOptions) {
  const client: StsClientOptions = { ...sts.client, ...(sts.endpoint !== undefined ? { endpoint: sts.endpoint } : {}), env };
  return {
    sts: client,
    ...(sts.region !== undefined ? { region: sts.region } : {}),
    ...(options.now !== undefined ? { now: options.now } : {}),
    ...(options.logger !== undefined ? { logger: options.logger } : {}),
  };
}

async function buildBase(
  base: BaseSource,
  config: SharedConfig,
  sts: StsSettings,
  env: Env,
  options: FromIniOptions,
  cache: (p: CredentialProvider) => CredentialProvider,
): Promise<CredentialProvider> {
  switch (base.kind) {
    case 'static': {
      const credentials = base.credentials;
      return () => Promise.resolve(credentials);
    }
    case 'process':
      return cache(
        (options.diskCache ? (await import('../../cache/sts.js')).processThroughDisk(options.diskCache, base, options.logger) : (p: CredentialProvider) => p)(fromProcess({
          command: base.command,
          profileName: base.profileName,
          ...(base.accountId !== undefined ? { accountId: base.accountId } : {}),
          ...(options.processTimeoutMs !== undefined ? { timeoutMs: options.processTimeoutMs } : {}),
          env,
          ...(options.platform !== undefined ? { platform: options.platform } : {}),
          ...(options.now !== undefined ? { now: options.now } : {}),
        })),
      );
    case 'credential-source':
      switch (base.name) {
        case 'Environment':
          return fromEnv({ env: env as NodeJS.ProcessEnv });
        case 'Ec2InstanceMetadata':
          return cache(
            fromInstanceMetadata({
              ...options.instanceMetadata,
              env: env as NodeJS.ProcessEnv,
              profileSettings: config.profile ?? {},
              ...(options.now !== undefined ? { now: options.now } : {}),
              ...(options.logger !== undefined ? { logger: options.logger } : {}),
            }),
          );
        case 'EcsContainer':
          return cache(
            fromContainerMetadata({
              ...options.containerMetadata,
              env: env as NodeJS.ProcessEnv,
              ...(options.now !== undefined ? { now: options.now } : {}),
              ...(options.logger !== undefined ? { logger: options.logger } : {}),
            }),
          );
      }
    case 'web-identity': {
      return fromTokenFile({
        webIdentityTokenFile: base.tokenFile,
        roleArn: base.roleArn,
        ...(base.roleSessionName !== undefined ? { roleSessionName: base.roleSessionName } : {}),
        // Only the profile's settings: AWS_ROLE_SESSION_NAME & co. belong to the env-configured provider.
        env: {},
        ...stsProviderOptions(sts, env, options),
      });
    }
    case 'login': {
      // The Sign-In region: the login profile's own `region` first, as the JS SDK does, then the chain's.
      const region = base.region ?? sts.region;
      return cache(
        fromLogin({
          loginSession: base.loginSession,
          profile: base.profileName,
          ...options.login,
          ...(region !== undefined ? { region } : {}),
          ...(sts.signinEndpoint !== undefined ? { endpoint: sts.signinEndpoint } : {}),
          ...(options.logger !== undefined ? { logger: options.logger } : {}),
          env,
          ...(options.now !== undefined ? { now: options.now } : {}),
        }),
      );
    }
    case 'sso': {
      if (base.ssoAccountId === undefined || base.ssoRoleName === undefined) {
        // smithy-rs: such a profile "will resolve an access token instead of credentials" (AWS Builder ID).
        throw new ProfileConfigError(
          base.profileName,
          `Profile \`${base.profileName}\` (${whereDefined(config, base.profileName)}) uses SSO but sets neither sso_account_id nor sso_role_name, ` +
            'so it can only give an SSO access token, not AWS credentials; add sso_account_id and sso_role_name to get role credentials.',
          KEY.ssoAccountId,
        );
      }
      return cache(
        fromSso({
          ssoStartUrl: base.ssoStartUrl,
          ssoRegion: base.ssoRegion,
          ssoAccountId: base.ssoAccountId,
          ssoRoleName: base.ssoRoleName,
          ...(base.ssoSession !== undefined ? { ssoSession: base.ssoSession } : {}),
          profileName: base.profileName,
          ...options.sso,
          ...(sts.ssoEndpoint !== undefined ? { endpoint: sts.ssoEndpoint } : {}),
          ...(sts.ssoOidcEndpoint !== undefined ? { oidcEndpoint: sts.ssoOidcEndpoint } : {}),
          ...(options.logger !== undefined ? { logger: options.logger } : {}),
          env,
          ...(options.now !== undefined ? { now: options.now } : {}),
        }),
      );
    }
  }
}

// ---- messages ------------------------------------------------------------------------------------

function whereDefined(config: SharedConfig, name: string): string {
  const files = [
    config.configFileProfiles[name] !== undefined ? config.configPath : undefined,
    config.credentialsFileProfiles[name] !== undefined ? config.credentialsPath : undefined,
  ].filter((f): f is string => f !== undefined);
  return files.length ? `in ${files.join(' and ')}` : `in ${config.configPath} or ${config.credentialsPath}`;
}

function describeBase(base: BaseSource): string {
  switch (base.kind) {
    case 'static':
      return `static keys of profile \`${base.profileName}\``;
    case 'credential-source':
      return `credential_source = ${base.name} of profile \`${base.profileName}\``;
    case 'web-identity':
      return `web identity token file ${base.tokenFile} for ${base.roleArn} (profile \`${base.profileName}\`)`;
    case 'process':
      return `credential_process of profile \`${base.profileName}\``;
    case 'login':
      return `console login session (login_session) of profile \`${base.profileName}\``;
    case 'sso':
      return base.ssoAccountId !== undefined
        ? `SSO role ${base.ssoRoleName} in account ${base.ssoAccountId} of profile \`${base.profileName}\``
        : `SSO of profile \`${base.profileName}\``;
  }
}

function describePlan(plan: CredentialPlan): string {
  const hops = plan.roleHops.map((h) => `assume ${h.roleArn} (profile \`${h.profileName}\`)`);
  return [describeBase(plan.base), ...hops].join(' -> ');
}

/**
 * Failures while running a planned profile become real errors naming the profile and its file:
 * even "not found" (no env keys for `credential_source = Environment`, no instance role), because
 * the user asked for this profile and falling through to another identity would hide the mistake.
 * Our own config errors already say all that and pass through unchanged.
 */
function explainFailure(error: unknown, plan: CredentialPlan, where: (name: string) => string): unknown {
  if (error instanceof ProfileConfigError || error instanceof ProfileCredentialsError) return error;
  const base = plan.base;
  const what =
    plan.roleHops.length > 0
      ? `could not get credentials through ${describePlan(plan)}`
      : `could not get credentials from the ${describeBase(base)}`;
  const name = isNotFound(error) && base.kind === 'credential-source' ? base.profileName : plan.profileName;
  return new ProfileCredentialsError(name, where(name), what, error);
}
