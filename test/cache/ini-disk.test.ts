import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultChain } from '../../src/default-chain.js';
import { fromIni } from '../../src/providers/profile/index.js';
import { fromAssumeRole } from '../../src/providers/sts/assume-role.js';
import { fromSessionToken } from '../../src/providers/sts/session-token.js';
import { fromStatic } from '../../src/providers/static.js';
import { clearStsSessionCache } from '../../src/providers/sts/session-cache.js';
import { forgetDiskCacheState } from '../../src/cache/disk.js';
import { startStsServer, STS_SERVER_DEFAULT_USER as USER, type StsServer } from '../../src/testing/sts-server.js';
import { makeAwsHome, type AwsHome } from '../helpers/aws-home.js';
import { SecretProbe } from '../helpers/secrets-probe.js';

/**
 * The disk cache through fromIni / defaultChain / fromSessionToken, against the local STS with real
 * files. "A new process" is simulated by a fresh provider after forgetting the process-wide STS
 * session cache; cli-processes.test.ts runs real processes.
 */

const ACCOUNT = '123456789012';
const MFA_SERIAL = `arn:aws:iam::${ACCOUNT}:mfa/alice`;
const MFA_CODE = '271828';
const OTHER = { accessKeyId: 'AKIAOTHERUSER0000001', secretAccessKey: 'other-user-secret-key-0123456789abcdef' };

let sts: StsServer;
let home: AwsHome;
let cacheDir: string;

beforeEach(async () => {
  sts = await startStsServer({ account: ACCOUNT, users: { [USER.accessKeyId]: USER.secretAccessKey, [OTHER.accessKeyId]: OTHER.secretAccessKey }, mfaTokenCodes: { [MFA_SERIAL]: MFA_CODE } });
  home = makeAwsHome({
    credentials: [
      `[src]\naws_access_key_id = ${USER.accessKeyId}\naws_secret_access_key = ${USER.secretAccessKey}`,
      `[other]\naws_access_key_id = ${OTHER.accessKeyId}\naws_secret_access_key = ${OTHER.secretAccessKey}`,
      '',
    ].join('\n'),
    config: [
      '[profile hop1]',
      `role_arn = arn:aws:iam::${ACCOUNT}:role/first`,
      'source_profile = src',
      '[profile hop2]',
      `role_arn = arn:aws:iam::${ACCOUNT}:role/second`,
      'source_profile = hop1',
      '[profile hop1-other]',
      `role_arn = arn:aws:iam::${ACCOUNT}:role/first`,
      'source_profile = other',
      '[profile mfa]',
      `role_arn = arn:aws:iam::${ACCOUNT}:role/first`,
      'source_profile = src',
      `mfa_serial = ${MFA_SERIAL}`,
      '',
    ].join('\n'),
  });
  cacheDir = path.join(home.home, '.aws', 'cli', 'cache');
  newProcess();
});
afterEach(async () => {
  clearStsSessionCache();
  await sts.close();
  home.remove();
});

/** What a fresh process starts with: no in-memory sessions, no directory checked yet. */
function newProcess() {
  clearStsSessionCache();
  forgetDiskCacheState();
}

const env = () => ({ HOME: home.home, AWS_ENDPOINT_URL_STS: sts.url, AWS_REGION: 'us-east-1' });
const ini = (profile: string, extra: Record<string, unknown> = {}) => fromIni({ profile, env: env(), ...extra });

describe('fromIni({ diskCache })', () => {
  it('is off by default: every process pays its AssumeRole calls, nothing is written', async () => {
    await ini('hop2')();
    newProcess();
    await ini('hop2')();
    expect(sts.counts.AssumeRole).toBe(4);
    expect(() => readdirSync(cacheDir)).toThrow();
  });

  it('a two-hop profile: the next process reuses both sessions from ~/.aws/cli/cache (2 AssumeRole in all)', async () => {
    const first = await ini('hop2', { diskCache: true })();
    for (let i = 0; i < 3; i += 1) {
      newProcess();
      const again = await ini('hop2', { diskCache: true })();
      expect(again.accessKeyId).toBe(first.accessKeyId);
    }
    expect(sts.counts.AssumeRole).toBe(2);
    expect(readdirSync(cacheDir).filter((f) => f.endsWith('.json'))).toHaveLength(2);
  });

  it('CREDCHAIN_DISK_CACHE turns it on (a directory), and diskCache: false wins over it', async () => {
    const dir = path.join(home.home, 'elsewhere');
    const withEnv = () => fromIni({ profile: 'hop1', env: { ...env(), CREDCHAIN_DISK_CACHE: dir } });
    await withEnv()();
    newProcess();
    await withEnv()();
    expect(sts.counts.AssumeRole).toBe(1);
    expect(readdirSync(dir).filter((f) => f.endsWith('.json'))).toHaveLength(1);
    newProcess();
    await fromIni({ profile: 'hop1', env: { ...env(), CREDCHAIN_DISK_CACHE: dir }, diskCache: false })();
    expect(sts.counts.AssumeRole).toBe(2);
  });

  it('never crosses identities: another source user assuming the same role gets its own session', async () => {
    const mine = await ini('hop1', { diskCache: true })();
    newProcess();
    const theirs = await ini('hop1-other', { diskCache: true })();
    expect(theirs.accessKeyId).not.toBe(mine.accessKeyId);
    expect(sts.counts.AssumeRole).toBe(2);
    // Same AWS CLI key (same role, no other arguments): the entry was replaced, not shared.
    const [entry] = readdirSync(cacheDir).filter((f) => f.endsWith('.json'));
    expect(JSON.parse(readFileSync(path.join(cacheDir, entry!), 'utf8')).Credentials.AccessKeyId).toBe(theirs.accessKeyId);
  });

  it('an MFA profile: the code is asked once across processes for the session lifetime', async () => {
    let asked = 0;
    const tokenCode = async () => {
      asked += 1;
      return MFA_CODE;
    };
    for (let i = 0; i < 5; i += 1) {
      newProcess();
      await ini('mfa', { diskCache: true, tokenCode })();
    }
    expect(asked).toBe(1);
    expect(sts.counts.AssumeRole).toBe(1);
  });

  it('defaultChain({ diskCache }) passes it to the profile link', async () => {
    await defaultChain({ profile: 'hop1', env: env(), diskCache: true })();
    newProcess();
    await defaultChain({ profile: 'hop1', env: env(), diskCache: true })();
    expect(sts.counts.AssumeRole).toBe(1);
  });

  it('keeps expiring credential_process output on disk, and output without an expiration never', async () => {
    const counterFile = home.write('runs.txt', '');
    const script = (expiration: string | null) =>
      home.write(
        `proc-${expiration ? 'exp' : 'noexp'}.mjs`,
        `import { appendFileSync } from 'node:fs'; appendFileSync(${JSON.stringify(counterFile)}, 'x');
process.stdout.write(JSON.stringify({ Version: 1, AccessKeyId: 'ASIAPROCESS', SecretAccessKey: 'proc-secret', SessionToken: 'proc-token'${expiration ? `, Expiration: ${JSON.stringify(expiration)}` : ''} }));`,
      );
    const soon = new Date(Date.now() + 3_600_000).toISOString();
    writeFileSync(
      home.configPath,
      `[profile p]\ncredential_process = "${process.execPath}" "${script(soon)}"\n[profile q]\ncredential_process = "${process.execPath}" "${script(null)}"\n`,
    );
    for (let i = 0; i < 3; i += 1) {
      newProcess();
      expect((await ini('p', { diskCache: true })()).accessKeyId).toBe('ASIAPROCESS');
    }
    expect(readFileSync(counterFile, 'utf8')).toBe('x');
    for (let i = 0; i < 2; i += 1) {
      newProcess();
      await ini('q', { diskCache: true })();
    }
    expect(readFileSync(counterFile, 'utf8')).toBe('xxx');
    expect(readdirSync(cacheDir).filter((f) => f.startsWith('credchain-process-'))).toHaveLength(1);
  });
});

describe('fromAssumeRole({ diskCache })', () => {
  it('a right access key id with a wrong secret gets STS\'s refusal, not the stored session', async () => {
    const make = (secretAccessKey: string) =>
      fromAssumeRole({
        roleArn: `arn:aws:iam::${ACCOUNT}:role/first`,
        source: fromStatic({ accessKeyId: USER.accessKeyId, secretAccessKey }),
        sts: { endpoint: sts.url },
        region: 'us-east-1',
        diskCache: { dir: cacheDir },
      });
    await make(USER.secretAccessKey)();
    newProcess();
    expect((await make(USER.secretAccessKey)()).accessKeyId).toBe(sts.issued[0]!.accessKeyId);
    newProcess();
    await expect(make('wrong-secret-0123456789abcdefghijklmnop')()).rejects.toThrow(/SignatureDoesNotMatch|signature/i);
    expect(sts.counts.AssumeRole).toBe(2);
  });
});

describe('invalidate()', () => {
  it('a session served from disk and then invalidated is not served again: the entry is replaced', async () => {
    const make = () =>
      fromAssumeRole({
        roleArn: `arn:aws:iam::${ACCOUNT}:role/first`,
        source: fromStatic({ accessKeyId: USER.accessKeyId, secretAccessKey: USER.secretAccessKey }),
        sts: { endpoint: sts.url },
        region: 'us-east-1',
        diskCache: { dir: cacheDir },
        refresh: false,
      });
    const first = await make()();
    newProcess();
    const p = make();
    expect((await p()).accessKeyId).toBe(first.accessKeyId);
    p.invalidate();
    const next = await p();
    expect(next.accessKeyId).not.toBe(first.accessKeyId);
    expect(sts.counts.AssumeRole).toBe(2);
    newProcess();
    expect((await make()()).accessKeyId).toBe(next.accessKeyId);
  });
});

describe('fromSessionToken({ diskCache })', () => {
  it('GetSessionToken with MFA: one call and one code across processes; another user is not served', async () => {
    let asked = 0;
    const make = (keys: { accessKeyId: string; secretAccessKey: string }) =>
      fromSessionToken({
        source: fromStatic(keys),
        mfaSerial: MFA_SERIAL,
        tokenCode: () => {
          asked += 1;
          return MFA_CODE;
        },
        sts: { endpoint: sts.url },
        region: 'us-east-1',
        diskCache: { dir: cacheDir },
      });
    const a = await make(USER)();
    newProcess();
    const b = await make(USER)();
    expect(b.accessKeyId).toBe(a.accessKeyId);
    expect(asked).toBe(1);
    newProcess();
    const c = await make(OTHER)();
    expect(c.accessKeyId).not.toBe(a.accessKeyId);
    expect(sts.counts.GetSessionToken).toBe(2);
  });
});

describe('secrets', () => {
  it('no secret in debug lines or errors, including the refusal of an unsafe file', async () => {
    const probe = new SecretProbe();
    await probe.result('first', () => ini('hop2', { diskCache: true, logger: probe.logger })());
    newProcess();
    await probe.result('second', () => ini('hop2', { diskCache: true, logger: probe.logger })());
    expect(probe.counts.logLines).toBeGreaterThan(0);
    for (const f of readdirSync(cacheDir).filter((n) => n.endsWith('.json'))) (await import('node:fs')).chmodSync(path.join(cacheDir, f), 0o666);
    newProcess();
    if (process.getuid?.() !== undefined) {
      const error = await probe.failure('unsafe', () => ini('hop2', { diskCache: true, logger: probe.logger })());
      expect(error.message).toMatch(/group or others can write it/);
    }
    const secrets = [USER.secretAccessKey, ...sts.issued.flatMap((c) => [c.secretAccessKey, c.sessionToken])];
    expect(probe.leaks(secrets)).toEqual([]);
  });
});
