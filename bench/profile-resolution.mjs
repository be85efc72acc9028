// Resolving a static-key profile from a 200-profile config, ours (`fromIni`) vs
// `@aws-sdk/credential-provider-ini` `fromIni`, in the same run:
//  - cold resolve in a fresh process: import of the package + first call, timed inside a new node
//    process (cold JIT, nothing cached); median of several processes;
//  - cold resolve in-process: before each call both files get a new mtime (so ours must re-read and
//    re-parse: its cache is keyed by mtime) and the SDK gets `ignoreCache`; a new provider each time;
//    JIT warm: the steady cost of reading and parsing the files (and of the touch, on both sides);
//  - warm re-resolve: the same provider called again (ours: 2 stats, no re-parse; SDK: re-parses
//    the cached file text on every call).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, row } from './lib.mjs';

const ours = process.env.CREDCHAIN_BENCH_MODULE ?? fileURLToPath(new URL('../dist/index.js', import.meta.url));
const ANCHOR = '@aws-sdk/credential-provider-ini fromIni';
const PROFILES = 200;
const TARGET = 'p150';

/** A config with 200 profiles of the usual shapes, and a credentials file with keys for each. */
function writeFiles(dir) {
  const config = [];
  const credentials = [];
  for (let i = 0; i < PROFILES; i += 1) {
    config.push(`[profile p${i}]`, `region = us-west-${(i % 2) + 1}`, 'output = json');
    if (i % 4 === 1) config.push(`role_arn = arn:aws:iam::1234567890${String(i % 100).padStart(2, '0')}:role/r${i}`, `source_profile = p${i - 1}`);
    if (i % 10 === 3) config.push('s3 =', '  max_concurrent_requests = 20', '  multipart_threshold = 64MB');
    config.push('# a comment line', '');
    credentials.push(`[p${i}]`, `aws_access_key_id = AKIDBENCH${String(i).padStart(6, '0')}`, `aws_secret_access_key = benchSecret${i}/abcdefghijklmnopqrstuvwxyz0123`, '');
  }
  writeFileSync(path.join(dir, 'config'), config.join('\n'));
  writeFileSync(path.join(dir, 'credentials'), credentials.join('\n'));
  return { configFile: path.join(dir, 'config'), credentialsFile: path.join(dir, 'credentials') };
}

async function load() {
  const mod = await import(ours);
  if (typeof mod.fromIni !== 'function') throw new Error(`fromIni is not exported by ${ours} (export it from src/index.ts and build)`);
  const sdk = await import('@aws-sdk/credential-provider-ini');
  return { mod, sdk };
}

/** Mean µs per call of `fn` over `calls`, median of `rounds`, after a warm-up. */
async function usPerCall(fn, calls, rounds = 7) {
  for (let i = 0; i < Math.max(20, calls >> 2); i += 1) await fn();
  const results = [];
  for (let r = 0; r < rounds; r += 1) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < calls; i += 1) await fn();
    results.push(Number(process.hrtime.bigint() - start) / calls / 1000);
  }
  return median(results);
}

/**
 * Import + first resolve, in `runs` fresh processes each (ours and the SDK alternating so drift hits
 * both); each process imports only its own package. Import is counted because credchain loads its
 * shared-config code lazily, on the first call: timing only the call would charge ours for the import.
 */
function firstResolveInFreshProcess(files, runs = 9) {
  const script = (which) => `
    const files = ${JSON.stringify(files)};
    const start = process.hrtime.bigint();
    ${
      which === 'ours'
        ? `const mod = await import(${JSON.stringify(ours)}); const provider = mod.fromIni({ profile: '${TARGET}', ...files });`
        : `const sdk = await import('@aws-sdk/credential-provider-ini'); const provider = sdk.fromIni({ profile: '${TARGET}', configFilepath: files.configFile, filepath: files.credentialsFile });`
    }
    const c = await provider();
    const us = Number(process.hrtime.bigint() - start) / 1000;
    if (c.accessKeyId !== 'AKIDBENCH000150') throw new Error('wrong credentials ' + c.accessKeyId);
    process.stdout.write(String(us));`;
  const once = (which) => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script(which)], { encoding: 'utf8', cwd: fileURLToPath(new URL('..', import.meta.url)) });
    if (r.status !== 0) throw new Error(`bench process failed: ${r.stderr}`);
    return Number(r.stdout);
  };
  const oursUs = [];
  const sdkUs = [];
  for (let i = 0; i < runs; i += 1) {
    oursUs.push(once('ours'));
    sdkUs.push(once('sdk'));
  }
  return { ours: median(oursUs), sdk: median(sdkUs) };
}

export async function benchProfileResolution() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'credchain-bench-ini-'));
  try {
    const files = writeFiles(dir);
    const { mod, sdk } = await load();
    const sdkInit = { profile: TARGET, configFilepath: files.configFile, filepath: files.credentialsFile };

    const fresh = firstResolveInFreshProcess(files);

    let stamp = Date.now() / 1000;
    const touch = () => {
      stamp += 1;
      utimesSync(files.configFile, stamp, stamp);
      utimesSync(files.credentialsFile, stamp, stamp);
    };
    const coldOurs = await usPerCall(() => {
      touch();
      return mod.fromIni({ profile: TARGET, ...files })();
    }, 300);
    const coldSdk = await usPerCall(() => {
      touch();
      return sdk.fromIni({ ...sdkInit, ignoreCache: true })();
    }, 300);

    const oursProvider = mod.fromIni({ profile: TARGET, ...files });
    const sdkProvider = sdk.fromIni(sdkInit);
    const [a, b] = [await oursProvider(), await sdkProvider()];
    if (a.accessKeyId !== b.accessKeyId || a.secretAccessKey !== b.secretAccessKey) throw new Error('ours and the SDK disagree');
    const warmOurs = await usPerCall(oursProvider, 3000);
    const warmSdk = await usPerCall(sdkProvider, 3000);

    const label = `static-key profile, ${PROFILES}-profile config`;
    return [
      row(`${label}: import + first resolve in a fresh process (µs, median of 9)`, fresh.ours, fresh.sdk, 'µs', 0.5, ANCHOR),
      row(`${label}: cold resolve in-process, parse caches dropped (µs)`, coldOurs, coldSdk, 'µs', 0.5, ANCHOR),
      row(`${label}: warm re-resolve, same provider (µs)`, warmOurs, warmSdk, 'µs', 0.5, ANCHOR),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const r of await benchProfileResolution()) console.log(`${r.name}: ${r.ours.toFixed(1)} vs ${r.anchor.toFixed(1)} ${r.unit} = ${r.ratio.toFixed(2)}x (goal ≤ ${r.goal}x)`);
}
