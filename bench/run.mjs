// `npm run bench`: every comparison in one run, one table, and bench/RESULTS.md.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { benchImport, benchCachedGet } from './import-and-cached-get.mjs';
import { benchFootprint } from './footprint.mjs';
import { benchSts } from './sts-overhead.mjs';
import { benchMetadata } from './metadata-requests.mjs';
import { benchRoleChain } from './role-chain.mjs';
import { benchProfileResolution } from './profile-resolution.mjs';
import { benchBundle } from './bundle.mjs';

const sections = [
  // First, in a quiet process: a nanosecond measurement suffers from whatever ran before it.
  ['cached get', benchCachedGet],
  ['refreshing: cached get and outage', async () => [...(await (await import('./refresh-cached-get.mjs')).benchRefreshCachedGet()), ...(await (await import('./refresh-outage.mjs')).benchRefreshOutage())]],
  ['cold import', benchImport],
  ['profile resolution', benchProfileResolution],
  ['sts client', benchSts],
  ['sts role chain', benchRoleChain],
  ['disk session cache (real processes)', async () => (await import('./disk-cache.mjs')).benchDiskCache()],
  ['instance and container metadata', benchMetadata],
  ['metadata static stability', async () => (await import('./metadata-stability.mjs')).benchMetadataStability()],
  ['serve: fleet and load', async () => [...(await (await import('./serve-fleet.mjs')).benchServeFleet()), ...(await (await import('./serve-load.mjs')).benchServeLoad())]],
  ['install footprint', benchFootprint],
  ['bundled (esbuild, webpack)', benchBundle],
];

const fmt = (n) => (Number.isFinite(n) ? (Math.abs(n) >= 100 ? n.toFixed(0) : n.toFixed(2)) : String(n));
const rows = [];
for (const [label, run] of sections) {
  process.stderr.write(`bench: ${label}...\n`);
  try {
    rows.push(...(await run()));
  } catch (error) {
    rows.push({ name: `${label}: FAILED (${error.message})`, ours: NaN, anchor: NaN, unit: '', ratio: NaN });
  }
}

const header = '| measurement | credchain | anchor | ratio | goal | met |\n|---|---|---|---|---|---|';
const lines = rows.map(
  (r) =>
    `| ${r.name} | ${fmt(r.ours)} ${r.unit} | ${fmt(r.anchor)} ${r.unit} (${r.anchorName ?? ''}) | ${fmt(r.ratio)}× | ${r.goal === undefined ? '' : `≤ ${r.goal}×`} | ${r.met === undefined ? '' : r.met ? 'yes' : 'NO'} |`,
);
const table = [header, ...lines].join('\n');
console.log(table);

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const report = `# Benchmark results

Written by \`npm run bench\` (bench/run.mjs). Ratios are credchain ÷ anchor, lower is better; both sides run
in the same process tree, on the same machine, in the same run.

- Machine: ${cpu}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.release()}
- Node: ${process.version}
- Date: ${new Date().toISOString()}

${table}
`;
writeFileSync(fileURLToPath(new URL('./RESULTS.md', import.meta.url)), report);
