import { randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { writeFileAtomic } from '../atomic-write.js';
import { chmod, link, lstat, mkdir, open, readdir, rename, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { systemClock, type Clock } from '../clock.js';
import { makeCredentials, maskAccessKeyId, type Credentials } from '../credentials.js';
import { CredentialsError } from '../errors.js';
import { SILENT, type FullLogger } from '../logger.js';
import { sourceDigest } from './key.js';
import { acquireLock, LOCK_DEFAULTS } from './lock.js';

/**
 * The opt-in on-disk cache of STS sessions (and expiring `credential_process` output), shared by
 * processes and with the AWS CLI (`~/.aws/cli/cache`, its file format). Safety rules:
 * - the directory is made 0700 and every file 0600; a directory or file that another user owns or
 *   that group/others can write is refused with a `DiskCacheError` (never read, never written);
 * - writes are atomic: a temp file (O_EXCL, 0600) in the directory, fsync, rename;
 * - one lock file per entry, so processes starting together make one call (see lock.ts);
 * - an entry is used only when it parses, is complete, is not past its renewal window and carries
 *   the caller's `CredchainSource` digest; anything else is ignored and replaced, never returned.
 *   AWS CLI entries (no such digest) are used only with `trustAwsCliEntries`.
 */

/** `true` (the default directory) or settings. */
export type DiskCacheOption = boolean | DiskCacheSettings;

export interface DiskCacheSettings {
  /** @default `~/.aws/cli/cache`, the AWS CLI's */
  readonly dir?: string;
  /**
   * Use AssumeRole entries the AWS CLI wrote. Its key does not cover the caller's identity, so such an
   * entry cannot be proven to belong to this source: off unless you share the directory only with
   * AWS CLI runs of the same profiles. (The AWS CLI always reads the entries credchain writes.) @default false
   */
  readonly trustAwsCliEntries?: boolean;
  /** Longest wait for another process's fetch. @default 10_000 */
  readonly lockWaitMs?: number;
  /** A lock this old is taken over. @default 30_000 */
  readonly staleLockMs?: number;
}

export interface ResolvedDiskCache {
  readonly dir: string;
  readonly trustAwsCliEntries: boolean;
  readonly lockWaitMs: number;
  readonly staleLockMs: number;
}

export const DISK_CACHE_ENV = 'CREDCHAIN_DISK_CACHE';

/** The default directory: the AWS CLI's `~/.aws/cli/cache`. */
export function defaultCacheDir(env: Record<string, string | undefined> = process.env): string {
  const home = env.HOME || env.USERPROFILE || homedir();
  return join(home, '.aws', 'cli', 'cache');
}

/**
 * The disk cache to use: the option when given (`false` turns it off even when the variable is set),
 * else `CREDCHAIN_DISK_CACHE` (`1`/`true`: the default directory; `0`/`false`/empty: off; anything
 * else: a directory). Off by default.
 */
export function resolveDiskCache(option: DiskCacheOption | undefined, env: Record<string, string | undefined> = process.env): ResolvedDiskCache | undefined {
  let settings: DiskCacheSettings | undefined;
  if (option === false) return undefined;
  if (option === true) settings = {};
  else if (option !== undefined && option !== null && typeof option === 'object') settings = option;
  else if (option !== undefined) throw new DiskCacheError(`diskCache must be true, false or { dir } (got ${typeof option})`);
  else {
    const raw = env[DISK_CACHE_ENV]?.trim();
    if (raw === undefined || raw === '' || /^(0|false|no|off)$/i.test(raw)) return undefined;
    settings = /^(1|true|yes|on)$/i.test(raw) ? {} : { dir: raw };
  }
  const dir = settings.dir ?? defaultCacheDir(env);
  if (typeof dir !== 'string' || dir.trim() === '') throw new DiskCacheError('diskCache.dir must be a non-empty directory path');
  return {
    dir: dir.startsWith('~/') ? join(env.HOME || homedir(), dir.slice(2)) : dir,
    trustAwsCliEntries: settings.trustAwsCliEntries === true,
    lockWaitMs: settings.lockWaitMs ?? LOCK_DEFAULTS.waitMs,
    staleLockMs: settings.staleLockMs ?? LOCK_DEFAULTS.staleMs,
  };
}

/** A cache directory or file that is unsafe to use, or a cache that cannot be written. */
export class DiskCacheError extends CredentialsError {
  override name = 'DiskCacheError';
  constructor(message: string, cause?: unknown) {
    super(`disk cache: ${message}`, { providerName: 'disk-cache', ...(cause !== undefined ? { cause } : {}) });
  }
}

const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
const mode = (st: Stats) => `0${(st.mode & 0o777).toString(8)}`;

/** Refuses what another user owns or group/others can write (POSIX only). */
function checkSafe(st: Stats, path: string, what: 'directory' | 'file'): void {
  if (uid === undefined) return;
  if (st.uid !== uid) throw new DiskCacheError(`refusing to use the cache ${what} ${path}: it belongs to user ${st.uid}, not to this user (${uid}); remove it`);
  if ((st.mode & 0o022) !== 0)
    throw new DiskCacheError(`refusing to use the cache ${what} ${path}: group or others can write it (mode ${mode(st)}); fix with chmod ${what === 'directory' ? '700' : '600'} ${path}`);
}

const dirsReady = new Map<string, Promise<void>>();

/** Creates the directory 0700 (or tightens our own to 0700) and checks it. */
export function ensureDir(dir: string): Promise<void> {
  let ready = dirsReady.get(dir);
  if (!ready) {
    ready = (async () => {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const st = await lstat(dir);
      if (!st.isDirectory()) throw new DiskCacheError(`refusing to use ${dir} as the cache directory: it is not a directory`);
      if (uid !== undefined && st.uid === uid && (st.mode & 0o077) !== 0) await chmod(dir, 0o700);
      checkSafe(await lstat(dir), dir, 'directory');
    })();
    ready.catch(() => dirsReady.delete(dir));
    dirsReady.set(dir, ready);
  }
  return ready;
}

/**
 * Reads a file of the cache directory: no symlink followed, regular files only, refused when unsafe.
 * Undefined when it does not exist.
 */
export async function readSafe(path: string): Promise<string | undefined> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw new DiskCacheError(`refusing to read the cache file ${path}: it is a symbolic link`);
    throw new DiskCacheError(`cannot read the cache file ${path} (${code ?? 'error'})`, error);
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new DiskCacheError(`refusing to read the cache file ${path}: it is not a regular file`);
    checkSafe(st, path, 'file');
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/** Writes `text` to `path` atomically (the package's one atomic writer: 0600 temp file, fsync, rename). */
export const writeAtomic = (path: string, text: string): Promise<void> => writeFileAtomic(path, text);

export const SALT_FILE = 'credchain-salt';
const salts = new Map<string, Promise<Buffer>>();

/** The directory's random salt (32 bytes, hex in a 0600 file), made by whoever comes first. */
export function saltOf(dir: string): Promise<Buffer> {
  let salt = salts.get(dir);
  if (!salt) {
    salt = (async () => {
      const path = join(dir, SALT_FILE);
      const existing = await readSafe(path);
      if (existing !== undefined && /^[0-9a-f]{64}$/.test(existing.trim())) return Buffer.from(existing.trim(), 'hex');
      // Written whole to a temp file, then linked: no reader ever sees half a salt, one maker wins.
      const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
      const handle = await open(temp, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600);
      try {
        await handle.writeFile(randomBytes(32).toString('hex'));
        await handle.sync();
      } finally {
        await handle.close();
      }
      try {
        if (existing !== undefined) await rename(temp, path); // a corrupt salt is replaced
        else await link(temp, path).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'EEXIST') throw error;
        });
      } finally {
        await unlink(temp).catch(() => {});
      }
      const text = (await readSafe(path))?.trim() ?? '';
      if (!/^[0-9a-f]{64}$/.test(text)) throw new DiskCacheError(`the salt file ${path} is unreadable`);
      return Buffer.from(text, 'hex');
    })();
    salt.catch(() => salts.delete(dir));
    salts.set(dir, salt);
  }
  return salt;
}

/** Forgets the directories checked and salts read in this process (after `cache clear`, in tests). */
export function forgetDiskCacheState(): void {
  dirsReady.clear();
  salts.clear();
  distrusted.clear();
}

/** Sessions (by access key id) invalidated in this process: their entries are no longer used, but replaced. */
const distrusted = new Set<string>();
/** Stops using the entry holding this session (its provider was invalidated, e.g. STS said it expired). */
export function distrust(accessKeyId: string): void {
  distrusted.add(accessKeyId);
}

/** A session as the renewal windows judge it. */
export interface DiskSession {
  readonly credentials: Credentials;
  readonly obtainedAt: number;
  readonly expiresAt: number;
}

/** `2025-01-02T03:04:05Z`, `+00:00`, and botocore's `…UTC` (its JSON of a datetime). Undefined when unreadable. */
export function parseExpiration(text: unknown): number | undefined {
  if (typeof text !== 'string' || text.length > 64) return undefined;
  const iso = text.replace(/ ?UTC$/, 'Z');
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(iso)) return undefined;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms : undefined;
}

/** The lifetime assumed for an AWS CLI entry, which records no start: AssumeRole's default hour. */
const CLI_ENTRY_LIFETIME_MS = 3_600_000;

export type EntryVerdict =
  | { readonly ok: true; readonly session: DiskSession; readonly writer: 'credchain' | 'aws-cli' }
  | { readonly ok: false; readonly reason: string };

/** Judges an entry's text: complete, unexpired, and this source's (or a trusted AWS CLI entry). */
export function judgeEntry(text: string, expectedSource: string, options: { trustAwsCliEntries: boolean; now: number }): EntryVerdict {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not valid JSON (corrupt or truncated)' };
  }
  const creds = (doc as { Credentials?: unknown } | null)?.Credentials as Record<string, unknown> | undefined;
  if (creds === null || typeof creds !== 'object') return { ok: false, reason: 'no Credentials object' };
  const { AccessKeyId, SecretAccessKey, SessionToken, AccountId } = creds;
  if (typeof AccessKeyId !== 'string' || AccessKeyId === '' || typeof SecretAccessKey !== 'string' || SecretAccessKey === '')
    return { ok: false, reason: 'incomplete credentials' };
  if (SessionToken !== undefined && typeof SessionToken !== 'string') return { ok: false, reason: 'incomplete credentials' };
  const expiresAt = parseExpiration(creds.Expiration);
  if (expiresAt === undefined) return { ok: false, reason: 'no readable Expiration' };
  if (expiresAt <= options.now) return { ok: false, reason: 'expired' };
  const source = (doc as { CredchainSource?: unknown }).CredchainSource;
  let writer: 'credchain' | 'aws-cli';
  let obtainedAt: number;
  if (source === undefined) {
    if (!options.trustAwsCliEntries) return { ok: false, reason: 'written by the AWS CLI (its key does not cover the source identity; see trustAwsCliEntries)' };
    if (typeof SessionToken !== 'string') return { ok: false, reason: 'incomplete credentials' };
    writer = 'aws-cli';
    obtainedAt = Math.min(options.now, expiresAt - CLI_ENTRY_LIFETIME_MS);
  } else {
    if (source !== expectedSource) return { ok: false, reason: 'another source identity' };
    writer = 'credchain';
    const at = parseExpiration((doc as { CredchainObtainedAt?: unknown }).CredchainObtainedAt);
    obtainedAt = at !== undefined && at <= options.now && at < expiresAt ? at : Math.min(options.now, expiresAt - CLI_ENTRY_LIFETIME_MS);
  }
  const credentials = makeCredentials({
    accessKeyId: AccessKeyId,
    secretAccessKey: SecretAccessKey,
    ...(typeof SessionToken === 'string' ? { sessionToken: SessionToken } : {}),
    expiration: new Date(expiresAt),
    ...(typeof AccountId === 'string' ? { accountId: AccountId } : {}),
  });
  return { ok: true, session: { credentials, obtainedAt, expiresAt }, writer };
}

/** An entry's text: the AssumeRole response shape the AWS CLI reads, plus our source digest and start time. */
export function entryText(credentials: Credentials, source: string, obtainedAt: number): string {
  return JSON.stringify({
    Credentials: {
      AccessKeyId: credentials.accessKeyId,
      SecretAccessKey: credentials.secretAccessKey,
      ...(credentials.sessionToken !== undefined ? { SessionToken: credentials.sessionToken } : {}),
      Expiration: credentials.expiration!.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      ...(credentials.accountId !== undefined ? { AccountId: credentials.accountId } : {}),
    },
    CredchainSource: source,
    CredchainObtainedAt: new Date(obtainedAt).toISOString(),
  });
}

export interface DiskSessionRequest {
  readonly cache: ResolvedDiskCache;
  /** The entry's file name without `.json` (the AWS CLI's key for AssumeRole). */
  readonly fileName: string | ((salt: Buffer) => string);
  /** Everything that identifies the source and the request (secrets included: only its keyed digest is stored). */
  readonly identity: readonly unknown[];
  /** Whether the AWS CLI writes entries under this name (AssumeRole): then `trustAwsCliEntries` applies. */
  readonly cliCompatible: boolean;
  readonly now?: Clock;
  /** Whether a session may still be handed out (before its renewal window). */
  readonly shareable: (session: DiskSession, nowMs: number) => boolean;
  /** Gets a new session (the STS call, the process run). */
  readonly fetch: () => Promise<Credentials>;
  readonly logger?: FullLogger;
  /** For log lines, e.g. `assume-role`. */
  readonly name: string;
}

/**
 * A session from the disk cache, or a new one stored there. Without a usable entry, the lock is
 * taken, the entry read again (another process may just have stored one), and only then `fetch`
 * runs: N processes starting together make one call, the rest read its result.
 */
export async function diskSession(request: DiskSessionRequest): Promise<{ credentials: Credentials; fromDisk: boolean }> {
  const { cache, name } = request;
  const now = request.now ?? systemClock;
  const log = request.logger ?? SILENT;
  await ensureDir(cache.dir);
  const salt = await saltOf(cache.dir);
  const fileName = typeof request.fileName === 'function' ? request.fileName(salt) : request.fileName;
  const path = join(cache.dir, `${fileName}.json`);
  const source = sourceDigest(salt, request.identity);

  const lookup = async (): Promise<DiskSession | undefined> => {
    const text = await readSafe(path);
    if (text === undefined) return undefined;
    const nowMs = now();
    const verdict = judgeEntry(text, source, { trustAwsCliEntries: request.cliCompatible && cache.trustAwsCliEntries, now: nowMs });
    if (!verdict.ok) {
      log.debug(`${name}: disk cache entry ${fileName}.json ignored: ${verdict.reason}`);
      return undefined;
    }
    if (distrusted.has(verdict.session.credentials.accessKeyId)) {
      log.debug(`${name}: disk cache entry ${fileName}.json ignored: its session was invalidated in this process`);
      return undefined;
    }
    if (!request.shareable(verdict.session, nowMs)) {
      log.debug(`${name}: disk cache entry ${fileName}.json is inside its renewal window; renewing it`);
      return undefined;
    }
    log.debug(`${name}: session ${maskAccessKeyId(verdict.session.credentials.accessKeyId)} from the disk cache (${verdict.writer} entry ${fileName}.json)`);
    return verdict.session;
  };

  const hit = await lookup();
  if (hit) return { credentials: hit.credentials, fromDisk: true };
  const lock = await acquireLock(`${path}.lock`, { waitMs: cache.lockWaitMs, staleMs: cache.staleLockMs });
  if (!lock) log.debug(`${name}: waited ${cache.lockWaitMs} ms for the lock on ${fileName}.json; going on without it`);
  try {
    if (lock) {
      const again = await lookup();
      if (again) return { credentials: again.credentials, fromDisk: true };
    }
    const credentials = await request.fetch();
    if (credentials.expiration !== undefined && credentials.expiration.getTime() > now()) {
      try {
        await writeAtomic(path, entryText(credentials, source, now()));
      } catch (error) {
        // The session is good; only the sharing failed.
        log.warn(`${name}: could not store the session in the disk cache ${cache.dir}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
      }
    }
    return { credentials, fromDisk: false };
  } finally {
    await lock?.release();
  }
}

// ---- credchain cache list | clear --------------------------------------------------------------

export interface ListedEntry {
  readonly file: string;
  readonly writer: 'credchain' | 'aws-cli' | 'unknown';
  /** Masked: `****MPLE`. */
  readonly accessKeyId?: string;
  readonly expiration?: string;
  readonly state: 'valid' | 'expired' | 'corrupt' | 'unsafe';
}

/** Every session entry of the directory, secrets masked (files that are not entries are left out). */
export async function listEntries(dir: string, nowMs: number = Date.now()): Promise<ListedEntry[]> {
  const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw error;
  });
  const out: ListedEntry[] = [];
  for (const file of names.filter((n) => n.endsWith('.json')).sort()) {
    let text: string | undefined;
    try {
      text = await readSafe(join(dir, file));
    } catch {
      out.push({ file, writer: 'unknown', state: 'unsafe' });
      continue;
    }
    if (text === undefined) continue;
    let doc: { Credentials?: Record<string, unknown>; CredchainSource?: unknown } | undefined;
    try {
      doc = JSON.parse(text) as typeof doc;
    } catch {
      out.push({ file, writer: 'unknown', state: 'corrupt' });
      continue;
    }
    const creds = doc?.Credentials;
    if (creds === null || typeof creds !== 'object') {
      // Not a session entry (the CLI keeps other things there too): left alone and unlisted.
      continue;
    }
    const expiresAt = parseExpiration(creds.Expiration);
    out.push({
      file,
      writer: doc?.CredchainSource !== undefined ? 'credchain' : 'aws-cli',
      ...(typeof creds.AccessKeyId === 'string' ? { accessKeyId: maskAccessKeyId(creds.AccessKeyId) } : {}),
      ...(expiresAt !== undefined ? { expiration: new Date(expiresAt).toISOString() } : {}),
      state: expiresAt === undefined || typeof creds.AccessKeyId !== 'string' ? 'corrupt' : expiresAt <= nowMs ? 'expired' : 'valid',
    });
  }
  return out;
}

/** Removes every session entry (and leftover lock and temp files); returns how many entries went. */
export async function clearEntries(dir: string): Promise<number> {
  const listed = await listEntries(dir);
  let removed = 0;
  for (const entry of listed) {
    if (entry.state === 'unsafe') continue;
    await unlink(join(dir, entry.file)).then(() => (removed += 1), () => {});
  }
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const n of names) if (/\.json\.lock$|\.tmp$/.test(n)) await unlink(join(dir, n)).catch(() => {});
  return removed;
}

