import type { Clock } from '../clock.js';
import type { CredentialProvider, Credentials } from '../credentials.js';
import { toFullLogger, type FullLogger, type Logger } from '../logger.js';
import { renewalWindow } from '../refreshing.js';
import { diskSession, distrust, resolveDiskCache, type DiskCacheOption, type DiskSession } from './disk.js';
import { cliAssumeRoleKey, ownKey, type CliAssumeRoleArgs } from './key.js';

/**
 * Glue between the STS-backed providers (and `credential_process`) and the disk cache: what goes
 * into an entry's name and its source digest. Loaded only when a disk cache is configured.
 */

/** What an STS plan tells the disk cache (see `SessionPlan.disk`). */
export interface StsDiskPlan {
  /** The caller whose identity the session belongs to (only its keyed digest is stored). */
  readonly caller: Credentials | undefined;
  /** Every request parameter but the MFA code; `roleSessionName` only when it was configured. */
  readonly input: object;
  /** AssumeRole: the entry takes the AWS CLI's file name. */
  readonly awsCliKey?: boolean;
}

export interface StsDiskCall {
  readonly option: DiskCacheOption;
  readonly operation: string;
  readonly endpoint: string;
  readonly signingRegion: string;
  readonly disk: StsDiskPlan;
  readonly now: Clock;
  readonly shareable: (session: DiskSession, nowMs: number) => boolean;
  readonly fetch: () => Promise<Credentials>;
  readonly log: FullLogger;
  readonly name: string;
  /** Called with a function that stops this session's entry being used again, when it came from disk. */
  readonly onServed?: (forget: () => void) => void;
}

/** The STS call through the disk cache (straight to `fetch` when the option turns it off). */
export async function stsThroughDisk(call: StsDiskCall): Promise<Credentials> {
  const cache = resolveDiskCache(call.option, {});
  if (!cache) return call.fetch();
  const { caller, input, awsCliKey } = call.disk;
  const identity = [
    call.operation,
    call.endpoint,
    call.signingRegion,
    caller ? [caller.accessKeyId, caller.secretAccessKey, caller.sessionToken ?? null] : null,
    input,
  ];
  const fileName = awsCliKey ? cliAssumeRoleKey(input as CliAssumeRoleArgs) : (salt: Buffer) => ownKey(salt, 'session-token', identity);
  const { credentials, fromDisk } = await diskSession({
    cache,
    fileName,
    identity,
    cliCompatible: awsCliKey === true,
    now: call.now,
    shareable: call.shareable,
    fetch: call.fetch,
    logger: call.log,
    name: call.name,
  });
  if (fromDisk) call.onServed?.(() => distrust(credentials.accessKeyId));
  return credentials;
}

/**
 * Wraps a `credential_process` provider so its output, when it carries an expiration, is kept on disk
 * (keyed by the command and profile) until its renewal window (refreshing's default windows); output
 * without an expiration is never stored.
 */
export function processThroughDisk(option: DiskCacheOption, base: { command: string; profileName?: string }, logger?: Logger): (provider: CredentialProvider) => CredentialProvider {
  const log = toFullLogger(logger);
  const parts = ['credential_process', base.command, base.profileName ?? null];
  return (provider) => async () => {
    const cache = resolveDiskCache(option, {});
    if (!cache) return provider();
    const { credentials } = await diskSession({
      cache,
      fileName: (salt) => ownKey(salt, 'process', parts),
      identity: parts,
      cliCompatible: false,
      shareable: (session, nowMs) => nowMs < renewalWindow(session.obtainedAt, session.expiresAt, {}, 1).refreshAt,
      fetch: provider,
      logger: log,
      name: 'process',
    });
    return credentials;
  };
}
