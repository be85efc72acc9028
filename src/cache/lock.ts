import { constants } from 'node:fs';
import { open, readFile, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';

/**
 * A lock file per cache entry, so N processes starting together make one STS call: created with
 * O_CREAT|O_EXCL (mode 0600) holding `{pid, host, createdAt}`. Waiters poll until they get it, at
 * most `waitMs`; a lock older than `staleMs`, or held by a process of this host that no longer runs,
 * is stale and removed (only if it still holds what was judged stale).
 */

export interface LockOptions {
  /** Longest wait for the lock; then the caller goes on without it. @default 10_000 */
  readonly waitMs?: number;
  /** A lock this old is stale (its holder hung or died without cleaning up). @default 30_000 */
  readonly staleMs?: number;
  /** Clock for lock ages. @default Date.now */
  readonly now?: () => number;
}

export const LOCK_DEFAULTS = { waitMs: 10_000, staleMs: 30_000 } as const;

export interface HeldLock {
  release(): Promise<void>;
}

const HOST = hostname();

function pidRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the lock whose text is `text` is stale at `nowMs`. Unreadable text counts as stale once old. */
export function isStale(text: string, ageMs: number, staleMs: number): boolean {
  if (ageMs >= staleMs) return true;
  try {
    const held = JSON.parse(text) as { pid?: unknown; host?: unknown; createdAt?: unknown };
    if (typeof held.createdAt === 'number' && Date.now() - held.createdAt >= staleMs) return true;
    if (held.host === HOST && typeof held.pid === 'number' && held.pid !== process.pid && !pidRuns(held.pid)) return true;
    return false;
  } catch {
    // Half-written by a holder that is creating it right now: not stale until it is old.
    return false;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Takes the lock at `path`, or returns undefined after `waitMs` (the holder is slow, e.g. waiting
 * for an MFA code: the caller then proceeds without it, still writing atomically).
 */
export async function acquireLock(path: string, options: LockOptions = {}): Promise<HeldLock | undefined> {
  const waitMs = options.waitMs ?? LOCK_DEFAULTS.waitMs;
  const staleMs = options.staleMs ?? LOCK_DEFAULTS.staleMs;
  const now = options.now ?? Date.now;
  const start = now();
  let delay = 10;
  for (;;) {
    try {
      const handle = await open(path, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600);
      const mine = JSON.stringify({ pid: process.pid, host: HOST, createdAt: Date.now() });
      try {
        await handle.writeFile(mine);
      } finally {
        await handle.close();
      }
      return {
        release: async () => {
          // Only our own lock: after a stale-lock takeover it may be someone else's now.
          const text = await readFile(path, 'utf8').catch(() => undefined);
          if (text === mine) await unlink(path).catch(() => {});
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    await breakIfStale(path, staleMs);
    if (now() - start >= waitMs) return undefined;
    await sleep(delay + Math.random() * delay);
    delay = Math.min(delay * 2, 100);
  }
}

async function breakIfStale(path: string, staleMs: number): Promise<void> {
  let text: string;
  let ageMs: number;
  try {
    const handle = await open(path, constants.O_RDONLY);
    try {
      ageMs = Date.now() - (await handle.stat()).mtimeMs;
      text = await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  } catch {
    return; // gone already
  }
  if (!isStale(text, ageMs, staleMs)) return;
  // Remove it only if it still holds what we judged stale (another waiter may have replaced it).
  const again = await readFile(path, 'utf8').catch(() => undefined);
  if (again === text) await unlink(path).catch(() => {});
}
