// The on-disk session cache (`--cache`) with real processes of the built CLI against the local STS:
// AssumeRole requests for 20 processes started together on a two-hop role profile, 100 sequential
// runs within one session lifetime (and what the first and later runs cost), and how often an MFA
// profile asks for its code across 10 processes. Anchor: the same runs without --cache.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median } from './lib.mjs';

const dist = process.env.CREDCHAIN_DIST ? pathToFileURL(`${process.env.CREDCHAIN_DIST.replace(/\/$/, '')}/`) : new URL('../dist/', import.meta.url);
const ACCOUNT = '111122223333';
const MFA_SERIAL = `arn:aws:iam::${ACCOUNT}:mfa/bench`;
const MFA_CODE = '123456';

function runCli(cli, args, env, input = '') {
  return new Promise((resolve) => {
    const start = performance.now();
    const child = execFile(process.execPath, [cli, ...args], { env, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ ok: !error, stdout, stderr, ms: performance.now() - start }),
    );
    child.stdin.end(input);
  });
}

/** Rows for the bench report (see bench/lib.mjs `row`). */
export async function benchDiskCache({ together = 20, sequential = 100, mfaProcesses = 10 } = {}) {
  const { startStsServer, STS_SERVER_DEFAULT_USER: user } = await import(new URL('testing/index.js', dist).href);
  const cli = fileURLToPath(new URL('cli/main.js', dist));
  const home = mkdtempSync(path.join(os.tmpdir(), 'credchain-bench-disk-'));
  const server = await startStsServer({ account: ACCOUNT, mfaTokenCodes: { [MFA_SERIAL]: MFA_CODE } });
  try {
    mkdirSync(path.join(home, '.aws'));
    writeFileSync(path.join(home, '.aws', 'credentials'), `[src]\naws_access_key_id = ${user.accessKeyId}\naws_secret_access_key = ${user.secretAccessKey}\n`);
    writeFileSync(
      path.join(home, '.aws', 'config'),
      `[profile first]\nrole_arn = arn:aws:iam::${ACCOUNT}:role/first\nsource_profile = src\n` +
        `[profile second]\nrole_arn = arn:aws:iam::${ACCOUNT}:role/second\nsource_profile = first\n` +
        `[profile mfa]\nrole_arn = arn:aws:iam::${ACCOUNT}:role/first\nsource_profile = src\nmfa_serial = ${MFA_SERIAL}\n`,
    );
    const env = { PATH: process.env.PATH ?? '', HOME: home, AWS_ENDPOINT_URL_STS: server.url, AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true' };
    const exportArgs = (cache) => ['--profile', 'second', ...(cache ? ['--cache'] : []), 'export', '--format', 'process'];
    const assumeRoles = () => server.counts.AssumeRole ?? 0;
    const check = (results) => {
      const bad = results.find((r) => !r.ok);
      if (bad) throw new Error(`a credchain process failed: ${bad.stderr.slice(0, 300)}`);
    };
    const clearCache = () => rmSync(path.join(home, '.aws', 'cli'), { recursive: true, force: true });

    // 1. N processes started together.
    server.clearLog();
    check(await Promise.all(Array.from({ length: together }, () => runCli(cli, exportArgs(false), env))));
    const togetherPlain = assumeRoles();
    server.clearLog();
    clearCache();
    check(await Promise.all(Array.from({ length: together }, () => runCli(cli, exportArgs(true), env))));
    const togetherCached = assumeRoles();

    // 2. Sequential runs within one session lifetime.
    server.clearLog();
    clearCache();
    const cachedTimes = [];
    for (let i = 0; i < sequential; i += 1) {
      const r = await runCli(cli, exportArgs(true), env);
      check([r]);
      cachedTimes.push(r.ms);
    }
    const sequentialCached = assumeRoles();
    server.clearLog();
    const plainTimes = [];
    const plainRuns = Math.min(sequential, 20);
    for (let i = 0; i < plainRuns; i += 1) {
      const r = await runCli(cli, exportArgs(false), env);
      check([r]);
      plainTimes.push(r.ms);
    }
    const sequentialPlain = (assumeRoles() / plainRuns) * sequential;

    // 3. MFA profile, N processes together, each with a code on stdin.
    server.clearLog();
    clearCache();
    const mfa = await Promise.all(Array.from({ length: mfaProcesses }, () => runCli(cli, ['--profile', 'mfa', '--cache', 'export', '--format', 'json'], env, `${MFA_CODE}\n`)));
    check(mfa);
    const asked = mfa.filter((r) => r.stderr.includes('Enter MFA code')).length;
    server.clearLog();
    const mfaPlain = await Promise.all(Array.from({ length: mfaProcesses }, () => runCli(cli, ['--profile', 'mfa', 'export', '--format', 'json'], env, `${MFA_CODE}\n`)));
    check(mfaPlain);
    const askedPlain = mfaPlain.filter((r) => r.stderr.includes('Enter MFA code')).length;

    const later = median(cachedTimes.slice(1));
    return [
      { name: `disk cache: ${together} processes of \`export --format process --cache\` started together, two-hop role profile: AssumeRole requests (goal: 2)`, ours: togetherCached, anchor: togetherPlain, unit: 'req', ratio: togetherCached / togetherPlain, anchorName: 'same runs without --cache', met: togetherCached === 2 },
      { name: `disk cache: ${sequential} sequential runs within one session lifetime: AssumeRole requests in total (goal: 2)`, ours: sequentialCached, anchor: sequentialPlain, unit: 'req', ratio: sequentialCached / sequentialPlain, anchorName: `without --cache, ${plainRuns} runs scaled to ${sequential}`, met: sequentialCached === 2 },
      { name: 'disk cache: first run (two AssumeRole, stores both) vs later runs (read from disk), ms per process', ours: later, anchor: cachedTimes[0], unit: 'ms', ratio: later / cachedTimes[0], anchorName: `first run; later = median of ${sequential - 1}; without --cache each run takes ${median(plainTimes).toFixed(0)} ms` },
      { name: `disk cache: MFA profile, ${mfaProcesses} processes together: times the code is asked (goal: 1)`, ours: asked, anchor: askedPlain, unit: 'asks', ratio: asked / askedPlain, anchorName: 'same runs without --cache', met: asked === 1 },
    ];
  } finally {
    await server.close();
    rmSync(home, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  for (const r of await benchDiskCache()) console.log(`| ${r.name} | ${r.ours} ${r.unit} | ${typeof r.anchor === 'number' ? r.anchor.toFixed?.(r.unit === 'ms' ? 0 : 0) : r.anchor} ${r.unit} (${r.anchorName}) | ${r.ratio.toFixed(2)}× | | ${r.met === undefined ? '' : r.met ? 'yes' : 'NO'} |`);
}
