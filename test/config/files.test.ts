import { chmod, mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { inspect } from 'node:util';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigFileError, ConfigParseError } from '../../src/config/errors.js';
import {
  clearSharedConfigCache,
  homeDirectory,
  loadSharedConfig,
  resolveConfigLocations,
  sharedConfigCacheStats,
} from '../../src/config/files.js';
import { readConformanceJson } from './conformance.js';

interface LocationCase {
  name: string;
  environment: Record<string, string>;
  platform: 'linux' | 'windows';
  profile?: string;
  configLocation: string;
  credentialsLocation: string;
}

const locationCases = readConformanceJson<{ tests: LocationCase[] }>('smithy-rs/file-location-tests.json').tests;

describe('file-location-tests.json (smithy-rs)', () => {
  it('has the 9 cases the README describes', () => {
    expect(locationCases).toHaveLength(9);
  });

  // One case has no `profile`: it does not test profile selection, so only the paths are compared.
  it.each(locationCases.map((c, i) => [`${i + 1}: ${c.name} (${c.platform})`, c] as const))('%s', (_label, c) => {
    const located = resolveConfigLocations({ env: c.environment, platform: c.platform });
    expect(located.configPath).toBe(c.configLocation);
    expect(located.credentialsPath).toBe(c.credentialsLocation);
    if (c.profile !== undefined) expect(located.profileName).toBe(c.profile);
  });
});

describe('resolveConfigLocations', () => {
  const env = { HOME: '/home/u', AWS_PROFILE: 'from-env', AWS_CONFIG_FILE: '/env/config' };

  it('prefers options over the environment, and says where the profile came from', () => {
    const located = resolveConfigLocations({ env, profile: 'opt', configFile: '/opt/config', platform: 'linux' });
    expect(located).toEqual({
      profileName: 'opt',
      profileNameSource: 'option',
      configPath: '/opt/config',
      credentialsPath: '/home/u/.aws/credentials',
    });
    expect(resolveConfigLocations({ env, platform: 'linux' }).profileNameSource).toBe('env');
    expect(resolveConfigLocations({ env: { HOME: '/h' }, platform: 'linux' })).toMatchObject({
      profileName: 'default',
      profileNameSource: 'default',
    });
  });

  it('expands ~ in options and environment paths', () => {
    const located = resolveConfigLocations({
      env: { HOME: '/home/u', AWS_SHARED_CREDENTIALS_FILE: '~/creds' },
      configFile: '~/cfg/config',
      platform: 'linux',
    });
    expect(located.configPath).toBe('/home/u/cfg/config');
    expect(located.credentialsPath).toBe('/home/u/creds');
    const win = resolveConfigLocations({ env: { USERPROFILE: 'C:\\Users\\u' }, configFile: '~\\c', platform: 'win32' });
    expect(win.configPath).toBe('C:\\Users\\u\\c');
  });

  it('treats blank environment values as unset', () => {
    const located = resolveConfigLocations({ env: { HOME: '/h', AWS_PROFILE: ' ', AWS_CONFIG_FILE: '' }, platform: 'linux' });
    expect(located.profileName).toBe('default');
    expect(located.configPath).toBe('/h/.aws/config');
  });

  it('HOMEDRIVE+HOMEPATH when neither HOME nor USERPROFILE is set (HOME, then USERPROFILE, win first)', () => {
    expect(homeDirectory({ HOMEDRIVE: 'D:', HOMEPATH: '\\Users\\x' })).toBe('D:\\Users\\x');
    const win = resolveConfigLocations({ env: { HOMEDRIVE: 'D:', HOMEPATH: '\\Users\\x' }, platform: 'win32' });
    expect(win.configPath).toBe('D:\\Users\\x\\.aws\\config');
    expect(homeDirectory({ USERPROFILE: 'C:\\u', HOMEDRIVE: 'D:', HOMEPATH: '\\x' })).toBe('C:\\u');
    expect(homeDirectory({ HOME: '/h', USERPROFILE: 'C:\\u', HOMEDRIVE: 'D:', HOMEPATH: '\\x' })).toBe('/h');
  });

  it('falls back to os.homedir() when no variable names a home', () => {
    expect(homeDirectory({})).toBe(os.homedir());
    expect(homeDirectory({ HOMEPATH: '\\users\\x' })).toBe(os.homedir()); // HOMEPATH alone has no drive
  });
});

describe('loadSharedConfig with real files', () => {
  let dir: string;
  let configPath: string;
  let credentialsPath: string;
  const load = (extra: Record<string, unknown> = {}) =>
    loadSharedConfig({ configFile: configPath, credentialsFile: credentialsPath, env: {}, ...extra });

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'credchain-files-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    clearSharedConfigCache();
    const sub = await mkdtemp(path.join(dir, 'case-'));
    configPath = path.join(sub, 'config');
    credentialsPath = path.join(sub, 'credentials');
  });

  it('merges both files, credentials-file keys winning, and exposes per-file views', async () => {
    await writeFile(configPath, '[profile dev]\nregion = eu-west-1\naws_access_key_id = FROM_CONFIG\n');
    await writeFile(credentialsPath, '[dev]\naws_access_key_id = FROM_CREDS\naws_secret_access_key = s\n');
    const cfg = await load({ profile: 'dev' });
    expect(cfg.profile).toEqual({ region: 'eu-west-1', aws_access_key_id: 'FROM_CREDS', aws_secret_access_key: 's' });
    expect(cfg.configFileProfiles.dev!.aws_access_key_id).toBe('FROM_CONFIG');
    expect(cfg.credentialsFileProfiles.dev!.aws_access_key_id).toBe('FROM_CREDS');
    expect(cfg).toMatchObject({ profileName: 'dev', profileNameSource: 'option', configPath, credentialsPath });
    expect(cfg.profile?.region).toBe('eu-west-1');
    expect(cfg.profile?.ec2_metadata_service_endpoint).toBeUndefined();
  });

  it('treats missing files as empty', async () => {
    const cfg = await load();
    expect(cfg.profile).toBeUndefined();
    expect(Object.keys(cfg.profiles)).toEqual([]);
    expect(sharedConfigCacheStats().reads).toBe(0);
  });

  it('reads and parses each file once while it is unchanged', async () => {
    await writeFile(configPath, '[default]\nregion = us-east-1\n');
    await writeFile(credentialsPath, '[default]\naws_access_key_id = A\naws_secret_access_key = B\n');
    const first = await load();
    const second = await load();
    const third = await load();
    expect(sharedConfigCacheStats()).toMatchObject({ reads: 2, parses: 2, stats: 6, entries: 2 });
    expect(second.profiles).toBe(first.profiles); // the merged view is reused, not rebuilt
    expect(third.profile).toBe(first.profile);
  });

  it('picks up a changed file at the next load', async () => {
    await writeFile(credentialsPath, '[default]\naws_access_key_id = OLD\naws_secret_access_key = B\n');
    expect((await load()).profile?.aws_access_key_id).toBe('OLD');
    await writeFile(credentialsPath, '[default]\naws_access_key_id = NEWKEY\naws_secret_access_key = B\n');
    const later = new Date(Date.now() + 5_000);
    await utimes(credentialsPath, later, later);
    expect((await load()).profile?.aws_access_key_id).toBe('NEWKEY');
    expect(sharedConfigCacheStats().parses).toBe(2);
  });

  it('notices a same-size rewrite through the modification time alone', async () => {
    await writeFile(credentialsPath, '[default]\nregion = aaaa\n');
    const t0 = new Date('2024-01-01T00:00:00Z');
    await utimes(credentialsPath, t0, t0);
    expect((await load()).profile?.region).toBe('aaaa');
    await writeFile(credentialsPath, '[default]\nregion = bbbb\n');
    await utimes(credentialsPath, t0, new Date('2024-01-01T00:00:01Z'));
    expect((await load()).profile?.region).toBe('bbbb');
  });

  it('forgets a file that was deleted', async () => {
    await writeFile(credentialsPath, '[default]\nregion = x\n');
    expect((await load()).profile).toBeDefined();
    await rm(credentialsPath);
    expect((await load()).profile).toBeUndefined();
  });

  it('reports an unreadable file by name', async () => {
    await mkdir(credentialsPath); // a directory where the file should be
    const error = await load().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigFileError);
    expect((error as Error).message).toContain(credentialsPath);
  });

  it.skipIf(process.getuid?.() === 0)('reports a file without read permission by name', async () => {
    await writeFile(configPath, '[default]\n');
    await chmod(configPath, 0o000);
    const error = await load().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigFileError);
    expect((error as ConfigFileError).code).toBe('EACCES');
    expect((error as Error).message).toContain(configPath);
  });

  it('reports a parse error with the file and line, without the secret on that line', async () => {
    await writeFile(credentialsPath, '[default]\naws_access_key_id = A\naws_secret_access_key: TOPSECRETVALUE\n');
    const error = await load().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigParseError);
    expect((error as Error).message).toContain(`${credentialsPath}, line 3`);
    expect((error as Error).message).not.toContain('TOPSECRETVALUE');
  });

  it('reads the [services] section the profile names', async () => {
    await writeFile(
      configPath,
      [
        '[profile dev]',
        'services = local-stack',
        '[services local-stack]',
        'sts =',
        '  endpoint_url = http://127.0.0.1:4566',
        'STS_extra =',
        '  Region = x',
      ].join('\n'),
    );
    const cfg = await load({ profile: 'dev' });
    expect(cfg.profile?.services).toBe('local-stack');
    // Service ids and their keys are lower-cased.
    expect(cfg.services['local-stack']).toEqual({ sts: { endpoint_url: 'http://127.0.0.1:4566' }, sts_extra: { region: 'x' } });
  });

  it('printing the result (util.inspect, JSON.stringify) masks secret keys and tokens, and shows the rest', async () => {
    await writeFile(configPath, '[profile dev]\nregion = eu-west-1\naws_secret_access_key = CONFIG-SECRET-xyz\n');
    await writeFile(credentialsPath, '[dev]\naws_access_key_id = AKIDPRINTED\naws_secret_access_key = CREDS-SECRET-xyz\naws_session_token = TOKEN-xyz\n');
    const cfg = await load({ profile: 'dev' });
    for (const text of [inspect(cfg, { depth: 10 }), inspect(cfg), JSON.stringify(cfg), inspect(cfg.profile), JSON.stringify(cfg.profiles), String(JSON.stringify(cfg.configFileProfiles))]) {
      expect(text).not.toMatch(/SECRET-xyz|TOKEN-xyz/);
    }
    const printed = inspect(cfg, { depth: 10 });
    expect(printed).toContain("aws_access_key_id: 'AKIDPRINTED'");
    expect(printed).toContain("aws_secret_access_key: '****'");
    expect(printed).toContain("region: 'eu-west-1'");
    expect(printed).not.toContain('Dictionary');
    expect(printed).not.toContain('null prototype');
    expect(JSON.parse(JSON.stringify(cfg)).profile).toEqual({ region: 'eu-west-1', aws_access_key_id: 'AKIDPRINTED', aws_secret_access_key: '****', aws_session_token: '****' });
    // Property access stays plain, and no key appears that the files did not set.
    expect(cfg.profile?.aws_secret_access_key).toBe('CREDS-SECRET-xyz');
    expect(Object.keys(cfg.profile!)).toEqual(['region', 'aws_secret_access_key', 'aws_access_key_id', 'aws_session_token']);
    expect(cfg.profiles.toJSON).toBeUndefined();
    expect(cfg.profile?.constructor).toBeUndefined();
  });

  it('uses AWS_PROFILE and AWS_CONFIG_FILE from the injected environment', async () => {
    await writeFile(configPath, '[profile envprof]\nregion = ap-south-1\n');
    const cfg = await loadSharedConfig({ env: { HOME: dir, AWS_PROFILE: 'envprof', AWS_CONFIG_FILE: configPath } });
    expect(cfg).toMatchObject({ profileName: 'envprof', profileNameSource: 'env', configPath });
    expect(cfg.credentialsPath).toBe(path.join(dir, '.aws', 'credentials'));
    expect(cfg.profile).toEqual({ region: 'ap-south-1' });
  });
});
