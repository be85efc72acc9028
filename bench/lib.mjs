// Shared helpers for the benchmarks: timing, medians, and table rows.
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';

export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Wall time in ms of `node --input-type=module -e <code>`, median of `runs` separate processes. */
export function processMs(code, runs = 10) {
  const times = [];
  for (let i = 0; i < runs; i += 1) {
    const start = performance.now();
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'ignore', 'pipe'] });
    times.push(performance.now() - start);
    if (r.status !== 0) throw new Error(`bench process failed: ${r.stderr}`);
  }
  return median(times);
}

/**
 * Mean ns per awaited call of `fn`, after a warm-up; the fastest of `rounds` rounds, for both sides
 * alike (at nanosecond scale the slower rounds measure the machine, e.g. another process or a GC).
 */
export async function nsPerCall(fn, calls = 200_000, rounds = 9) {
  for (let i = 0; i < 20_000; i += 1) await fn();
  const results = [];
  for (let r = 0; r < rounds; r += 1) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < calls; i += 1) await fn();
    results.push(Number(process.hrtime.bigint() - start) / calls);
  }
  return Math.min(...results);
}

/** One table row: ours vs the anchor, lower is better, with the goal for the ratio. */
export function row(name, ours, anchor, unit, goal, anchorName) {
  const ratio = anchor > 0 ? ours / anchor : Number.NaN;
  return { name, ours, anchor, unit, ratio, goal, anchorName, met: goal === undefined ? undefined : ratio <= goal };
}
