// Public entry points of the providers whose code loads on first use (see lazy.ts).
import type { InvalidatableProvider } from './provider.js';
import { lazyProvider, loadHeavy } from './lazy.js';
import type { InstanceMetadataOptions, ContainerMetadataOptions, StaticStabilityStatus } from './providers/metadata/index.js';
import type { FromProcessOptions } from './providers/process/index.js';
import type { SharedConfig, SharedConfigOptions } from './config/files.js';
import type { FromIniOptions } from './providers/profile/index.js';
import type { FromSsoOptions } from './providers/sso/index.js';
import type { FromLoginOptions } from './providers/login/index.js';
import { INNER_PROVIDER } from './trace.js';

type MetadataProvider = InvalidatableProvider & { status(): StaticStabilityStatus };
/** `status()` of the provider the lazy one built (not extended before the first call). */
function withStabilityStatus(provider: InvalidatableProvider): MetadataProvider {
  const out = provider as MetadataProvider;
  out.status = () =>
    (out as unknown as Record<symbol, Partial<MetadataProvider> | undefined>)[INNER_PROVIDER]?.status?.() ?? { extended: false, attempting: false, failures: 0 };
  return out;
}

/** EC2 instance role credentials from IMDS (IMDSv2, v1 fallback, static stability). See `InstanceMetadataOptions`. */
export function fromInstanceMetadata(options: InstanceMetadataOptions = {}): MetadataProvider {
  return withStabilityStatus(lazyProvider('instance-metadata', async () => (await loadHeavy()).fromInstanceMetadata(options)));
}

/** The instance's region from IMDS; `undefined` off EC2, when disabled, or when the path is missing. */
export async function regionFromInstanceMetadata(options: InstanceMetadataOptions = {}): Promise<string | undefined> {
  return (await loadHeavy()).regionFromInstanceMetadata(options);
}

/** ECS task role / EKS Pod Identity credentials from the container endpoint. See `ContainerMetadataOptions`. */
export function fromContainerMetadata(options: ContainerMetadataOptions = {}): MetadataProvider {
  return withStabilityStatus(lazyProvider('container-metadata', async () => (await loadHeavy()).fromContainerMetadata(options)));
}

/** Credentials printed by a `credential_process` command (Version 1 JSON), run without a shell. */
export function fromProcess(options: FromProcessOptions): InvalidatableProvider {
  return lazyProvider('process', async () => (await loadHeavy()).fromProcess(options));
}

/** Reads and merges `~/.aws/config` and `~/.aws/credentials` for a profile (cached by path and mtime). */
export async function loadSharedConfig(options: SharedConfigOptions = {}): Promise<SharedConfig> {
  return (await loadHeavy()).loadSharedConfig(options);
}

/**
 * A profile of `~/.aws/config` and `~/.aws/credentials`, resolved the way the AWS CLI does (static
 * keys, `source_profile` role chains, `credential_source`, web identity, `credential_process`, MFA).
 */
export function fromIni(options: FromIniOptions = {}): InvalidatableProvider {
  return lazyProvider('ini', async () => (await loadHeavy()).fromIni(options));
}

/**
 * Role credentials from the SSO portal (IAM Identity Center) with the token `aws sso login` cached in
 * `~/.aws/sso/cache`, refreshed through SSO-OIDC for `sso-session` profiles (see sso-oidc.ts).
 */
export function fromSso(options: FromSsoOptions): InvalidatableProvider {
  return lazyProvider('sso', async () => (await loadHeavy()).fromSso(options));
}

/**
 * Credentials of an `aws login` console session (`login_session`), from `~/.aws/login/cache`,
 * refreshed through the Sign-In service with a DPoP proof (see providers/login.ts).
 */
export function fromLogin(options: FromLoginOptions = {}): InvalidatableProvider {
  return lazyProvider('login', async () => (await loadHeavy()).fromLogin(options));
}
