import { spawnSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { makeCredentials, type Credentials } from '../../src/credentials.js';
import { cliAssumeRoleKey, pythonJsonDumps } from '../../src/cache/key.js';
import { acquireLock } from '../../src/cache/lock.js';
import {
  clearEntries,
  diskSession,
  DiskCacheError,
  forgetDiskCacheState,
  listEntries,
  parseExpiration,
  resolveDiskCache,
  writeAtomic,
  type DiskSessionRequest,
  type ResolvedDiskCache,
} from '../../src/cache/disk.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'credchain-disk-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
let dir: string;
let cache: ResolvedDiskCache;
beforeEach(() => {
  dir = path.join(root, `c${++n}`, 'cli', 'cache');
  cache = resolveDiskCache({ dir })!;
  forgetDiskCacheState();
});

const HOUR = 3_600_000;
function session(tag: string, expiresInMs = HOUR): Credentials {
  return makeCredentials({
    accessKeyId: `ASIA${tag.toUpperCase().padEnd(16, 'X')}`,
    secretAccessKey: `secret-${tag}`,
    sessionToken: `token-${tag}`,
    expiration: new Date(Math.floor((Date.now() + expiresInMs) / 1000) * 1000),
  });
}
const always = () => true;

function request(over: Partial<DiskSessionRequest> & { fetch: DiskSessionRequest['fetch'] }): DiskSessionRequest {
  return { cache, fileName: 'entry', identity: ['caller-a'], cliCompatible: true, shareable: always, name: 'test', ...over };
}

function counter(tag = 'one') {
  let calls = 0;
  const fetch = async () => {
    calls += 1;
    return session(`${tag}${calls}`);
  };
  return { fetch, get calls() { return calls; } };
}

describe('AWS CLI key scheme', () => {
  it('serialises like Python json.dumps(sort_keys=True)', () => {
    expect(pythonJsonDumps({ b: 1, a: ['x', { d: null, c: 'é' }] })).toBe('{"a": ["x", {"c": "\\u00e9", "d": null}], "b": 1}');
  });

  const python = spawnSync('python3', ['-c', 'import botocore.credentials'], { encoding: 'utf8' });
  it.skipIf(python.status !== 0)('gives the file name botocore (the AWS CLI) gives, for the arguments a profile can set', () => {
    const cases = [
      { roleArn: 'arn:aws:iam::123456789012:role/a' },
      { roleArn: 'arn:aws:iam::123456789012:role/a', roleSessionName: 'me', externalId: 'ext', serialNumber: 'arn:aws:iam::123456789012:mfa/u', durationSeconds: 1800 },
      { roleArn: 'arn:aws:iam::123456789012:role/ü', policy: '{"b":1,"a":[2]}' },
    ];
    const script = `
import json, sys
from botocore.credentials import AssumeRoleCredentialFetcher
for c in json.loads(sys.argv[1]):
    extra = {k: v for k, v in {'RoleSessionName': c.get('roleSessionName'), 'ExternalId': c.get('externalId'), 'SerialNumber': c.get('serialNumber'), 'DurationSeconds': c.get('durationSeconds'), 'Policy': c.get('policy')}.items() if v is not None}
    print(AssumeRoleCredentialFetcher(client_creator=None, source_credentials=None, role_arn=c['roleArn'], extra_args=extra)._cache_key)
`;
    const out = spawnSync('python3', ['-c', script, JSON.stringify(cases)], { encoding: 'utf8' });
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout.trim().split('\n')).toEqual(cases.map((c) => cliAssumeRoleKey(c)));
  });

  it('reads botocore\'s expiration forms', () => {
    expect(parseExpiration('2030-01-02T03:04:05UTC')).toBe(Date.UTC(2030, 0, 2, 3, 4, 5));
    expect(parseExpiration('2030-01-02T03:04:05+00:00')).toBe(Date.UTC(2030, 0, 2, 3, 4, 5));
    expect(parseExpiration('2030-01-02T03:04:05Z')).toBe(Date.UTC(2030, 0, 2, 3, 4, 5));
    expect(parseExpiration('tomorrow')).toBeUndefined();
  });
});

describe('options', () => {
  it('is off by default, on with the option or CREDCHAIN_DISK_CACHE', () => {
    expect(resolveDiskCache(undefined, {})).toBeUndefined();
    expect(resolveDiskCache(undefined, { CREDCHAIN_DISK_CACHE: '0' })).toBeUndefined();
    expect(resolveDiskCache(undefined, { CREDCHAIN_DISK_CACHE: '1', HOME: '/h' })?.dir).toBe(path.join('/h', '.aws', 'cli', 'cache'));
    expect(resolveDiskCache(undefined, { CREDCHAIN_DISK_CACHE: '/x/y' })?.dir).toBe('/x/y');
    expect(resolveDiskCache(true, { HOME: '/h' })?.dir).toBe(path.join('/h', '.aws', 'cli', 'cache'));
    expect(resolveDiskCache(false, { CREDCHAIN_DISK_CACHE: '1' })).toBeUndefined();
  });
});

describe('diskSession', () => {
  it('stores a session (dir 0700, file 0600, the AWS CLI format) and hands it back without fetching', async () => {
    const c = counter();
    const first = await diskSession(request({ fetch: c.fetch }));
    forgetDiskCacheState();
    const second = await diskSession(request({ fetch: c.fetch }));
    expect(c.calls).toBe(1);
    expect(first.fromDisk).toBe(false);
    expect(second.fromDisk).toBe(true);
    expect(second.credentials.secretAccessKey).toBe(first.credentials.secretAccessKey);
    expect(second.credentials.expiration?.getTime()).toBe(first.credentials.expiration?.getTime());
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(dir, 'entry.json')).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(dir, 'credchain-salt')).mode & 0o777).toBe(0o600);
    const doc = JSON.parse(readFileSync(path.join(dir, 'entry.json'), 'utf8'));
    expect(Object.keys(doc.Credentials).sort()).toEqual(['AccessKeyId', 'Expiration', 'SecretAccessKey', 'SessionToken']);
    expect(doc.Credentials.Expiration).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(doc.CredchainSource).toMatch(/^[0-9a-f]{64}$/);
    expect(readFileSync(path.join(dir, 'entry.json'), 'utf8')).not.toContain('caller-a');
  });

  it('never hands a session to another source identity: it fetches and replaces the entry', async () => {
    const c = counter();
    await diskSession(request({ fetch: c.fetch }));
    const other = await diskSession(request({ fetch: c.fetch, identity: ['caller-b'] }));
    expect(c.calls).toBe(2);
    expect(other.fromDisk).toBe(false);
    const back = await diskSession(request({ fetch: c.fetch, identity: ['caller-a'] }));
    expect(back.fromDisk).toBe(false);
    expect(c.calls).toBe(3);
  });

  it.each([
    ['corrupt', 'not json {'],
    ['truncated', '{"Credentials": {"AccessKeyId": "ASIAX", "SecretAcc'],
    ['incomplete', '{"Credentials": {"AccessKeyId": "ASIAX", "Expiration": "2099-01-01T00:00:00Z"}}'],
    ['empty', ''],
    ['not an object', '[1,2]'],
  ])('ignores and replaces a %s entry', async (_what, text) => {
    const c = counter();
    await diskSession(request({ fetch: c.fetch }));
    writeFileSync(path.join(dir, 'entry.json'), text, { mode: 0o600 });
    const got = await diskSession(request({ fetch: c.fetch }));
    expect(c.calls).toBe(2);
    expect(got.fromDisk).toBe(false);
    expect(JSON.parse(readFileSync(path.join(dir, 'entry.json'), 'utf8')).Credentials.SecretAccessKey).toBe('secret-one2');
  });

  it('ignores an expired entry (and stores none) and one inside its renewal window', async () => {
    const c = counter();
    await diskSession(request({ fetch: c.fetch }));
    const file = path.join(dir, 'entry.json');
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    doc.Credentials.Expiration = new Date(Date.now() - 1000).toISOString();
    writeFileSync(file, JSON.stringify(doc), { mode: 0o600 });
    const renewed = await diskSession(request({ fetch: c.fetch }));
    expect(renewed.fromDisk).toBe(false);
    expect(c.calls).toBe(2);
    const inWindow = await diskSession(request({ fetch: c.fetch, shareable: () => false }));
    expect(inWindow.fromDisk).toBe(false);
    expect(c.calls).toBe(3);
    // Credentials that are already expired when fetched are not stored.
    rmSync(file);
    await diskSession(request({ fetch: async () => session('late', -1000) }));
    expect(existsSync(file)).toBe(false);
  });

  it('uses an AWS CLI entry (no CredchainSource) only with trustAwsCliEntries', async () => {
    const c = counter();
    await diskSession(request({ fetch: c.fetch }));
    const cliEntry = { Credentials: { AccessKeyId: 'ASIACLIENTRY', SecretAccessKey: 'cli-secret', SessionToken: 'cli-token', Expiration: new Date(Date.now() + HOUR).toISOString().replace(/\.\d+Z$/, 'UTC') } };
    writeFileSync(path.join(dir, 'entry.json'), JSON.stringify(cliEntry), { mode: 0o600 });
    const trusted = await diskSession(request({ fetch: c.fetch, cache: { ...cache, trustAwsCliEntries: true } }));
    expect(trusted.credentials.accessKeyId).toBe('ASIACLIENTRY');
    expect(c.calls).toBe(1);
    const untrusted = await diskSession(request({ fetch: c.fetch }));
    expect(untrusted.fromDisk).toBe(false);
    expect(c.calls).toBe(2);
  });

  it.skipIf(process.getuid?.() === undefined)('refuses a cache file or directory group or others can write, with a clear error', async () => {
    const c = counter();
    await diskSession(request({ fetch: c.fetch }));
    chmodSync(path.join(dir, 'entry.json'), 0o622);
    const error = await diskSession(request({ fetch: c.fetch })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DiskCacheError);
    expect((error as Error).message).toMatch(/refusing to use the cache file .*entry\.json: group or others can write it \(mode 0622\); fix with chmod 600/);
    expect(c.calls).toBe(1);
    chmodSync(path.join(dir, 'entry.json'), 0o600);
    chmodSync(dir, 0o777);
    forgetDiskCacheState();
    // Our own directory is tightened to 0700 rather than refused.
    await diskSession(request({ fetch: c.fetch }));
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('makes one fetch for concurrent callers (the lock), the others read its result', async () => {
    let calls = 0;
    const fetch = async () => {
      calls += 1;
      await new Promise((r) => setTimeout(r, 100));
      return session(`lock${calls}`);
    };
    const all = await Promise.all(Array.from({ length: 8 }, () => diskSession(request({ fetch }))));
    expect(calls).toBe(1);
    expect(new Set(all.map((r) => r.credentials.accessKeyId)).size).toBe(1);
    expect(existsSync(path.join(dir, 'entry.json.lock'))).toBe(false);
  });

  it('takes over a lock left by a dead process, and goes on without a live one after the bounded wait', async () => {
    const c = counter();
    await diskSession(request({ fetch: c.fetch, shareable: () => false }));
    const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout.trim());
    writeFileSync(path.join(dir, 'entry.json.lock'), JSON.stringify({ pid: deadPid, host: os.hostname(), createdAt: Date.now() }), { mode: 0o600 });
    const started = Date.now();
    await diskSession(request({ fetch: c.fetch, shareable: () => false }));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(c.calls).toBe(2);

    const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)']);
    try {
      writeFileSync(path.join(dir, 'entry.json.lock'), JSON.stringify({ pid: live.pid, host: os.hostname(), createdAt: Date.now() }), { mode: 0o600 });
      const t0 = Date.now();
      await diskSession(request({ fetch: c.fetch, shareable: () => false, cache: { ...cache, lockWaitMs: 300 } }));
      expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
      expect(c.calls).toBe(3);
      // A live lock left alone; an old one is stale whoever holds it.
      expect(existsSync(path.join(dir, 'entry.json.lock'))).toBe(true);
      const lock = await acquireLock(path.join(dir, 'entry.json.lock'), { waitMs: 1000, staleMs: 50 });
      expect(lock).toBeDefined();
      await lock!.release();
    } finally {
      live.kill();
    }
  });
});

describe('files the cache creates', () => {
  it('every creating open is mode 0600, the mkdir 0700, the chmod 0700 (source check)', () => {
    for (const file of ['disk.ts', 'lock.ts']) {
      const source = readFileSync(new URL(`../../src/cache/${file}`, import.meta.url), 'utf8');
      const creating = [...source.matchAll(/open\(([^;]*O_CREAT[^;]*)\)/g)].map((m) => m[1]!);
      expect(creating.length).toBeGreaterThan(0);
      for (const call of creating) expect(call).toMatch(/, 0o600$/);
      for (const m of source.matchAll(/\b(mkdir|chmod)\(([^;]*)\)/g)) expect(m[2]).toMatch(/0o700/);
    }
  });
});

describe('writeAtomic', () => {
  it('replaces the directory entry (temp file + rename), never writes into the old file; leaves no temp file', async () => {
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'x.json');
    writeFileSync(file, 'old', { mode: 0o600 });
    linkSync(file, path.join(dir, 'x-old-link'));
    await writeAtomic(file, 'new');
    expect(readFileSync(file, 'utf8')).toBe('new');
    expect(readFileSync(path.join(dir, 'x-old-link'), 'utf8')).toBe('old');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('cache list | clear', () => {
  it('lists entries masked and clears them', async () => {
    const c = counter();
    await diskSession(request({ fetch: c.fetch }));
    await diskSession(request({ fetch: c.fetch, fileName: 'other' }));
    writeFileSync(path.join(dir, 'broken.json'), '{', { mode: 0o600 });
    writeFileSync(path.join(dir, 'notasession.json'), '{"x":1}', { mode: 0o600 });
    const listed = await listEntries(dir);
    expect(listed.map((e) => [e.file, e.state, e.writer])).toEqual([
      ['broken.json', 'corrupt', 'unknown'],
      ['entry.json', 'valid', 'credchain'],
      ['other.json', 'valid', 'credchain'],
    ]);
    expect(JSON.stringify(listed)).not.toMatch(/secret-|token-|ASIAONE/);
    expect(listed[1]!.accessKeyId).toMatch(/^\*\*\*\*/);
    expect(await clearEntries(dir)).toBe(3);
    expect(await listEntries(dir)).toEqual([]);
    expect(existsSync(path.join(dir, 'notasession.json'))).toBe(true);
  });
});
