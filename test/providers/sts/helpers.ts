import { afterEach, beforeEach } from 'vitest';
import type { StsClientOptions } from '../../../src/sts/index.js';
import { fromStatic } from '../../../src/providers/static.js';
import { clearStsSessionCache, configureStsSessionCache } from '../../../src/providers/sts/session-cache.js';
import { createFakeClock, type FakeClock } from '../../../src/testing/fake-clock.js';
import { startStsServer, STS_SERVER_DEFAULT_USER, type StsServer, type StsServerOptions } from '../../../src/testing/sts-server.js';

export const USER = STS_SERVER_DEFAULT_USER;
export const ROLE = (name: string, account = '111122223333') => `arn:aws:iam::${account}:role/${name}`;

const open: StsServer[] = [];
beforeEach(() => configureStsSessionCache({ enabled: true, maxEntries: 100, now: undefined }));
afterEach(async () => {
  clearStsSessionCache();
  await Promise.all(open.splice(0).map((s) => s.close()));
});

export interface Setup {
  server: StsServer;
  clock: FakeClock;
  /** STS client options pointing at the server (no env, instant retries). */
  sts: StsClientOptions;
  /** The IAM user's long-term keys. */
  user: ReturnType<typeof fromStatic>;
  /** No jitter, so renewal points are exact. */
  refresh: { random: () => number };
  /** Actions received, in order. */
  actions(): (string | undefined)[];
}

/** A local STS server and a fake clock shared by server, clients, caches and providers. */
export async function setup(options: Omit<StsServerOptions, 'now'> = {}): Promise<Setup> {
  const clock = createFakeClock(Date.UTC(2026, 0, 1, 12));
  const server = await startStsServer({ ...options, now: clock.now });
  open.push(server);
  configureStsSessionCache({ now: clock.now });
  return {
    server,
    clock,
    sts: { endpoint: server.url, region: 'us-west-2', env: {}, baseDelay: 0, now: clock.now },
    user: fromStatic({ accessKeyId: USER.accessKeyId, secretAccessKey: USER.secretAccessKey }),
    refresh: { random: () => 0 },
    actions: () => server.requests.map((r) => r.action),
  };
}

/** A log sink collecting every line. */
export function captureLogger() {
  const lines: string[] = [];
  const sink = (...args: unknown[]) => lines.push(args.map(String).join(' '));
  return { lines, logger: { debug: sink, info: sink, warn: sink, error: sink } };
}

/** An unsigned JWT with the given claims (the local server checks shape and claims, not the signature). */
export function jwt(claims: Record<string, unknown>): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'RS256', typ: 'JWT' })}.${part(claims)}.c2lnbmF0dXJl`;
}

export const MINUTE = 60_000;
