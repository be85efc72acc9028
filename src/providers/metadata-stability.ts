import { makeCredentials, maskAccessKeyId, type Credentials } from '../credentials.js';
import { messageOf } from '../errors.js';
import type { Clock } from '../clock.js';
import type { FullLogger } from '../logger.js';

const MINUTE_MS = 60_000;

export interface StaticStabilityOptions {
  readonly providerName: string;
  readonly now: Clock;
  /** In [0, 1): picks the pause between 5 and 10 minutes. */
  readonly random: () => number;
  readonly logger: FullLogger;
}

export interface StaticallyStable {
  (): Promise<Credentials>;
  /** Ends a hold early: the next call asks the endpoint again. */
  invalidate(): void;
}

/**
 * Static stability, as the AWS SDKs do it for metadata credentials: once a fetch has succeeded, a
 * failed renewal or credentials that arrive already expired do not fail the caller. The last
 * credentials are served with `expiration` moved to the next attempt, 5 to 10 minutes away at
 * random (so a fleet does not retry in step), and no request is sent before then. Without the moved
 * expiration a `refreshing` wrapper would see expired credentials and throw.
 */
export function staticallyStable(fetch: () => Promise<Credentials>, options: StaticStabilityOptions): StaticallyStable {
  const { providerName, now, random, logger } = options;
  let last: Credentials | undefined;
  let holdUntilMs: number | undefined;

  const hold = (credentials: Credentials, reason: string): Credentials => {
    const at = now();
    holdUntilMs = at + 5 * MINUTE_MS + Math.floor(random() * 5 * MINUTE_MS);
    const originalMs = credentials.expiration?.getTime() ?? -Infinity;
    const expiration = new Date(Math.max(originalMs, holdUntilMs));
    logger.warn(
      `${providerName}: ${reason}; serving the last credentials (${maskAccessKeyId(credentials.accessKeyId)}) with their ` +
        `expiration extended to ${expiration.toISOString()}, and asking again after ${new Date(holdUntilMs).toISOString()}`,
    );
    return extend(credentials, expiration);
  };

  const provider = async (): Promise<Credentials> => {
    if (last !== undefined && holdUntilMs !== undefined && now() < holdUntilMs) {
      return extend(last, new Date(Math.max(last.expiration?.getTime() ?? -Infinity, holdUntilMs)));
    }
    let fresh: Credentials;
    try {
      fresh = await fetch();
    } catch (error) {
      if (last === undefined) throw error;
      return hold(last, `renewing credentials failed (${messageOf(error)})`);
    }
    last = fresh;
    if (fresh.expiration !== undefined && fresh.expiration.getTime() <= now()) {
      return hold(fresh, `the endpoint returned credentials that expired at ${fresh.expiration.toISOString()}`);
    }
    holdUntilMs = undefined;
    return fresh;
  };
  provider.invalidate = () => {
    holdUntilMs = undefined;
  };
  return provider;
}

function extend(credentials: Credentials, expiration: Date): Credentials {
  return makeCredentials({ ...credentials, expiration });
}
