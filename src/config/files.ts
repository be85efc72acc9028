import { statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FileReadError, MAX_CONFIG_FILE_BYTES, readFileSafeSync } from '../fs-read.js';
import { ConfigFileError } from './errors.js';
import { emptyRecord, mergeProfiles, parseSharedFile, parseSubProperties, type FileKind, type IgnoredProfileSection, type ParsedFile, type Sections } from './parse.js';

export type Env = Readonly<Record<string, string | undefined>>;
export type ProfileNameSource = 'option' | 'env' | 'default';

export interface SharedConfigOptions {
  /** Profile to use. @default AWS_PROFILE, then `default` */
  readonly profile?: string;
  /** Path of the config file. @default AWS_CONFIG_FILE, then `~/.aws/config` */
  readonly configFile?: string;
  /** Path of the credentials file. @default AWS_SHARED_CREDENTIALS_FILE, then `~/.aws/credentials` */
  readonly credentialsFile?: string;
  /** Environment to read. @default process.env */
  readonly env?: Env;
  /** Path rules to apply (`win32`/`windows` or anything else for POSIX). @default process.platform */
  readonly platform?: string;
}

export interface ConfigLocations {
  readonly profileName: string;
  readonly profileNameSource: ProfileNameSource;
  readonly configPath: string;
  readonly credentialsPath: string;
}

/** `[services x]` sections read into `service id -> key -> value`. */
export type ServicesSections = Readonly<Record<string, Readonly<Record<string, Readonly<Record<string, string>>>>>>;

export interface SharedConfig extends ConfigLocations {
  /** The selected profile's keys (credentials file over config file), if it exists. */
  readonly profile: Readonly<Record<string, string>> | undefined;
  /** Every profile of both files, merged. */
  readonly profiles: Sections;
  readonly ssoSessions: Sections;
  readonly services: ServicesSections;
  /** Each file's own profiles, for rules and messages that depend on where a key was set. */
  readonly configFileProfiles: Sections;
  readonly credentialsFileProfiles: Sections;
  /** Ignored sections/keys in both files (no values). */
  readonly warnings: readonly string[];
  /** Profile headers of both files not taken as profiles (for "not found" messages). */
  readonly ignoredProfiles: readonly IgnoredProfileSection[];
}

/** A non-empty environment value; blank counts as unset, as for the SDKs' env providers. */
function envValue(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value;
}

function isWindows(platform: string): boolean {
  return platform === 'win32' || platform === 'windows';
}

/** Home directory: HOME, then USERPROFILE, then HOMEDRIVE+HOMEPATH, then `os.homedir()`. */
export function homeDirectory(env: Env = process.env): string {
  const home = envValue(env, 'HOME') ?? envValue(env, 'USERPROFILE');
  if (home !== undefined) return home;
  const drive = envValue(env, 'HOMEDRIVE');
  const homePath = envValue(env, 'HOMEPATH');
  if (drive !== undefined && homePath !== undefined) return `${drive}${homePath}`;
  return os.homedir();
}

/** Expands a leading `~` (alone, `~/`, or `~\` on Windows) to the home directory. */
function expandHome(p: string, env: Env, platform: string): string {
  const pathLib = isWindows(platform) ? path.win32 : path.posix;
  if (p === '~') return homeDirectory(env);
  if (p.startsWith('~/') || (isWindows(platform) && p.startsWith('~\\'))) {
    return pathLib.join(homeDirectory(env), p.slice(2));
  }
  return p;
}

/** Where the files are and which profile is selected; no file is touched. */
export function resolveConfigLocations(options: SharedConfigOptions = {}): ConfigLocations {
  const env = options.env ?? process.env;
  const platform = options.platform ?? process.platform;
  const pathLib = isWindows(platform) ? path.win32 : path.posix;
  const locate = (option: string | undefined, envName: string, fileName: string): string => {
    const given = option ?? envValue(env, envName);
    return given !== undefined ? expandHome(given, env, platform) : pathLib.join(homeDirectory(env), '.aws', fileName);
  };
  const envProfile = envValue(env, 'AWS_PROFILE');
  const [profileName, profileNameSource]: [string, ProfileNameSource] =
    options.profile !== undefined && options.profile !== ''
      ? [options.profile, 'option']
      : envProfile !== undefined
        ? [envProfile, 'env']
        : ['default', 'default'];
  return {
    profileName,
    profileNameSource,
    configPath: locate(options.configFile, 'AWS_CONFIG_FILE', 'config'),
    credentialsPath: locate(options.credentialsFile, 'AWS_SHARED_CREDENTIALS_FILE', 'credentials'),
  };
}

// ---- per-process cache of parsed files, keyed by kind + absolute path, checked by stat -------

interface CacheEntry {
  readonly stamp: string;
  readonly parsed: ParsedFile;
}

const fileCache = new Map<string, CacheEntry>();
const counters = { stats: 0, reads: 0, parses: 0 };
const EMPTY_FILE: Record<FileKind, ParsedFile> = {
  config: parseSharedFile('', 'config', ''),
  credentials: parseSharedFile('', 'credentials', ''),
};

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Parses a file, or returns the cached parse when its mtime, size and inode are unchanged
 * (one `stat` per call). A missing file is empty, and so is a character device that reads as empty
 * (`/dev/null`); a FIFO, socket, other device, directory or a file over 32 MiB is an error naming the file.
 *
 * The file system calls are synchronous on purpose: these files are a few KB on a local disk,
 * where a sync `stat` takes ~3 µs and the async one ~45 µs of thread-pool round trips (a sync
 * stat+read ~10 µs against ~200 µs), and the AWS CLI reads them synchronously too. The cost is
 * that a hung network home directory would block the event loop rather than one call.
 */
function loadSharedFile(filePath: string, kind: FileKind): ParsedFile {
  const absolute = path.resolve(filePath);
  const key = `${kind}\0${absolute}`;
  counters.stats++;
  let info;
  try {
    // stat never opens the file, so it cannot block on a FIFO; the read below re-checks the handle.
    info = statSync(absolute);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      fileCache.delete(key);
      return EMPTY_FILE[kind];
    }
    throw new ConfigFileError(filePath, code ?? 'stat failed', { code, cause: error });
  }
  // A character device that reads as empty (`AWS_CONFIG_FILE=/dev/null`) is an empty file, as for
  // the AWS CLI; anything else that is not a regular file is refused by the reader below.
  if (info.isFile()) {
    const cached = fileCache.get(key);
    if (cached && cached.stamp === stampOf(info)) return cached.parsed;
  }

  let read;
  try {
    counters.reads++;
    read = readFileSafeSync(absolute, MAX_CONFIG_FILE_BYTES);
  } catch (error) {
    const problem = error instanceof FileReadError ? error : undefined;
    if (problem?.problem === 'missing') {
      fileCache.delete(key);
      return EMPTY_FILE[kind]; // removed between stat and read
    }
    throw new ConfigFileError(filePath, problem?.reason ?? 'read failed', { code: problem?.code, cause: error });
  }
  if (!read.stats.isFile()) {
    fileCache.delete(key);
    return EMPTY_FILE[kind];
  }
  counters.parses++;
  const parsed = parseSharedFile(read.text, kind, filePath);
  fileCache.set(key, { stamp: stampOf(read.stats), parsed });
  return parsed;
}

function stampOf(info: { mtimeMs: number; size: number; ino: number }): string {
  return `${info.mtimeMs}:${info.size}:${info.ino}`;
}

/** What the file cache has done in this process: `stat` calls, file reads, parses, entries held. */
export function sharedConfigCacheStats(): { stats: number; reads: number; parses: number; entries: number } {
  return { ...counters, entries: fileCache.size };
}

/** Forgets every cached parse (and the merged views built from them) and zeroes the counters. */
export function clearSharedConfigCache(): void {
  fileCache.clear();
  mergedCache.clear();
  counters.stats = 0;
  counters.reads = 0;
  counters.parses = 0;
}

// ---- merged view, rebuilt only when one of the two parses changed ----------------------------

interface Merged {
  readonly config: ParsedFile;
  readonly credentials: ParsedFile;
  readonly profiles: Sections;
  readonly services: ServicesSections;
  readonly warnings: readonly string[];
  readonly ignoredProfiles: readonly IgnoredProfileSection[];
}

const mergedCache = new Map<string, Merged>();

function readServices(sections: Sections): ServicesSections {
  const out = emptyRecord<Record<string, Record<string, string>>>();
  for (const [name, section] of Object.entries(sections)) {
    const services = emptyRecord<Record<string, string>>();
    for (const [serviceId, block] of Object.entries(section)) {
      services[serviceId] = Object.freeze(parseSubProperties(block));
    }
    out[name] = Object.freeze(services);
  }
  return Object.freeze(out);
}

function merge(configPath: string, credentialsPath: string, config: ParsedFile, credentials: ParsedFile): Merged {
  const key = `${path.resolve(configPath)}\0${path.resolve(credentialsPath)}`;
  const cached = mergedCache.get(key);
  if (cached && cached.config === config && cached.credentials === credentials) return cached;
  const merged: Merged = {
    config,
    credentials,
    profiles: mergeProfiles(config.profiles, credentials.profiles),
    services: readServices(config.services),
    warnings: Object.freeze([...config.warnings, ...credentials.warnings]),
    ignoredProfiles: Object.freeze([...config.ignoredProfiles, ...credentials.ignoredProfiles]),
  };
  mergedCache.set(key, merged);
  return merged;
}

/**
 * Reads both shared files (cached by mtime) and selects the profile. Does not decide anything
 * about credentials: a missing profile is `profile: undefined` here (see `planProfile`).
 */
export async function loadSharedConfig(options: SharedConfigOptions = {}): Promise<SharedConfig> {
  const locations = resolveConfigLocations(options);
  const config = loadSharedFile(locations.configPath, 'config');
  const credentials = loadSharedFile(locations.credentialsPath, 'credentials');
  const merged = merge(locations.configPath, locations.credentialsPath, config, credentials);
  return {
    ...locations,
    profile: merged.profiles[locations.profileName],
    profiles: merged.profiles,
    ssoSessions: config.ssoSessions,
    services: merged.services,
    configFileProfiles: config.profiles,
    credentialsFileProfiles: credentials.profiles,
    warnings: merged.warnings,
    ignoredProfiles: merged.ignoredProfiles,
  };
}
