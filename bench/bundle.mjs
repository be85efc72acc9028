// Bundled, as Lambda and edge users ship it: one file made by esbuild and by webpack, for
//  - an env-keys handler (`await defaultChain()()` vs `fromNodeProviderChain()()`): minified and
//    gzipped bytes, and the bundle's cold start (node on the bundle, above bare `node -e 0`);
//  - a role-profile handler (`fromIni({ profile })` with `role_arn`, so STS is in the bundle): bytes.
// Both packages come from a fresh npm install (ours from `npm pack` of this tree, the SDK from the
// registry, the npm cache first) into one temp dir, so neither side sees devDependencies.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { median, row } from './lib.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);
const SDK = '@aws-sdk/credential-providers';
const npm = (args, cwd) => execFileSync('npm', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });

const HANDLERS = {
  'ours-env': `import { defaultChain } from 'credchain';
const provider = defaultChain();
export const handler = async () => (await provider()).accessKeyId.length;`,
  'sdk-env': `import { fromNodeProviderChain } from '${SDK}';
const provider = fromNodeProviderChain();
export const handler = async () => (await provider()).accessKeyId.length;`,
  'ours-role': `import { fromIni } from 'credchain';
const provider = fromIni({ profile: 'deploy' });
export const handler = async () => (await provider()).accessKeyId.length;`,
  'sdk-role': `import { fromIni } from '${SDK}';
const provider = fromIni({ profile: 'deploy' });
export const handler = async () => (await provider()).accessKeyId.length;`,
};
// The bundle runs its handler once: what a cold Lambda invocation does before answering.
const RUN = `\nhandler().then((n) => { if (!(n > 0)) process.exit(3); });\n`;
// CommonJS code inside an ESM bundle may call require() (the SDK's does); the usual Lambda banner.
const BANNER = `import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);`;

function install() {
  const dir = mkdtempSync(join(tmpdir(), 'credchain-bundle-'));
  const tarball = npm(['pack', '--silent', '--pack-destination', dir], root).trim().split('\n').pop();
  writeFileSync(join(dir, 'package.json'), '{"name":"bundle-bench","version":"1.0.0","private":true,"type":"module"}');
  npm(['install', '--no-audit', '--no-fund', '--ignore-scripts', '--prefer-offline', '--omit=dev', join(dir, tarball), SDK], dir);
  const sdkVersion = JSON.parse(readFileSync(join(dir, 'node_modules', SDK, 'package.json'), 'utf8')).version;
  for (const [name, code] of Object.entries(HANDLERS)) writeFileSync(join(dir, `${name}.mjs`), code + RUN);
  return { dir, sdkVersion };
}

async function esbuildBundle(dir, name) {
  const esbuild = await import('esbuild');
  const outfile = join(dir, 'out', `esbuild-${name}.mjs`);
  await esbuild.build({
    entryPoints: [join(dir, `${name}.mjs`)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    minify: true,
    target: 'node20',
    outfile,
    banner: { js: BANNER },
    absWorkingDir: dir,
    logLevel: 'silent',
  });
  return outfile;
}

async function webpackBundle(dir, name) {
  const webpack = require('webpack');
  const config = {
    mode: 'production',
    target: 'node20',
    context: dir,
    entry: join(dir, `${name}.mjs`),
    output: { path: join(dir, 'out'), filename: `webpack-${name}.mjs`, module: true, chunkFormat: 'module', library: { type: 'module' } },
    experiments: { outputModule: true },
    externalsPresets: { node: true },
    // One file, as Lambda and edge deployments ship it (dynamic imports inlined).
    plugins: [new webpack.optimize.LimitChunkCountPlugin({ maxChunks: 1 }), new webpack.BannerPlugin({ banner: BANNER, raw: true })],
    resolve: { modules: [join(dir, 'node_modules')], conditionNames: ['node', 'import', 'module', 'default'] },
    performance: { hints: false },
    stats: 'errors-only',
  };
  await new Promise((resolve, reject) =>
    webpack(config, (err, stats) => (err || stats.hasErrors() ? reject(err ?? new Error(stats.toString('errors-only'))) : resolve())),
  );
  return join(dir, 'out', `webpack-${name}.mjs`);
}

const sizes = (file) => {
  const bytes = readFileSync(file);
  return { min: bytes.length, gz: gzipSync(bytes, { level: 9 }).length };
};

/** Median wall ms of `runs` processes of `args`, ours and the SDK's interleaved by the caller. */
function spawnMs(args, env) {
  const start = performance.now();
  const r = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - start;
  if (r.status !== 0) throw new Error(`bundle run failed (${args.join(' ')}): ${r.stderr}`);
  return ms;
}

function coldStarts(files, runs) {
  const env = {
    PATH: process.env.PATH ?? '',
    AWS_ACCESS_KEY_ID: 'AKIDBUNDLEBENCH',
    AWS_SECRET_ACCESS_KEY: 'bundleBenchSecret/abcdefghijklmnopqrstuvwxyz',
    AWS_REGION: 'us-east-1',
  };
  const times = Object.fromEntries([['bare', []], ...Object.keys(files).map((k) => [k, []])]);
  for (let i = 0; i < runs; i += 1) {
    times.bare.push(spawnMs(['-e', '0'], env));
    for (const [k, file] of Object.entries(files)) times[k].push(spawnMs([file], env));
  }
  const bare = median(times.bare);
  return Object.fromEntries(Object.entries(files).map(([k]) => [k, median(times[k]) - bare]));
}

export async function benchBundle({ runs = 15 } = {}) {
  const { dir, sdkVersion } = install();
  mkdirSync(join(dir, 'out'), { recursive: true });
  // A role profile for the role handler, should anyone run it (the bench measures its size only).
  const anchor = `${SDK} ${sdkVersion}`;
  const rows = [];
  try {
    for (const [tool, bundle] of [['esbuild', esbuildBundle], ['webpack', webpackBundle]]) {
      const files = {};
      for (const name of Object.keys(HANDLERS)) files[name] = await bundle(dir, name);
      const s = Object.fromEntries(Object.entries(files).map(([k, f]) => [k, sizes(f)]));
      const cold = coldStarts({ ours: files['ours-env'], sdk: files['sdk-env'] }, runs);
      rows.push(
        row(`${tool} bundle, env-keys handler: minified (KiB)`, s['ours-env'].min / 1024, s['sdk-env'].min / 1024, 'KiB', 0.3, anchor),
        row(`${tool} bundle, env-keys handler: gzipped (KiB)`, s['ours-env'].gz / 1024, s['sdk-env'].gz / 1024, 'KiB', undefined, anchor),
        row(`${tool} bundle, env-keys handler: cold start above bare node (ms, median of ${runs})`, cold.ours, cold.sdk, 'ms', 0.3, anchor),
        row(`${tool} bundle, role-profile handler (STS inside): minified (KiB)`, s['ours-role'].min / 1024, s['sdk-role'].min / 1024, 'KiB', 0.5, anchor),
        row(`${tool} bundle, role-profile handler (STS inside): gzipped (KiB)`, s['ours-role'].gz / 1024, s['sdk-role'].gz / 1024, 'KiB', undefined, anchor),
      );
    }
  } finally {
    if (!process.env.CREDCHAIN_BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`bench: bundles kept in ${dir}\n`);
  }
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const fmt = (n) => (Math.abs(n) >= 100 ? n.toFixed(0) : n.toFixed(2));
  for (const r of await benchBundle()) console.log(`${r.name}: ${fmt(r.ours)} vs ${fmt(r.anchor)} ${r.unit} (${fmt(r.ratio)}x${r.goal ? `, goal <= ${r.goal}x: ${r.met ? 'met' : 'NOT met'}` : ''})`);
}
