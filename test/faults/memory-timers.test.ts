import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startImdsServer, type ImdsServer } from '../../src/testing/imds-server.js';
import { buildChildEntry, lastJson, runChild } from './helpers/child-process.js';

/**
 * Memory and timers, measured in child processes (a clean heap, `--expose-gc`, and a real exit):
 * 1,000,000 cached gets on a refreshing provider must not grow the heap, and a process that used
 * refreshing providers (with the system clock, background renewals, invalidate(), and IMDS over
 * keep-alive HTTP) must exit on its own, with no timer left keeping it alive.
 */

const GETS = 1_000_000;
const MAX_GROWTH_BYTES = 1024 * 1024;

/** A child script: `mode` picks the clock and the credentials; prints the heap before and after. */
const memoryScript = (mode: 'system-clock' | 'injected-clock' | 'no-expiration' | 'leaky-control') => `
import { refreshing, makeCredentials } from './lib.js';
const mode = ${JSON.stringify(mode)};
const HOUR = 3_600_000;
let innerCalls = 0;
const inner = async () => {
  innerCalls += 1;
  return makeCredentials({
    accessKeyId: 'AKIDMEMORYTEST000001',
    secretAccessKey: 'memory-test-secret',
    sessionToken: 'memory-test-token',
    ...(mode === 'no-expiration' ? {} : { expiration: new Date(Date.now() + HOUR) }),
  });
};
const provider = refreshing(inner, mode === 'injected-clock' ? { now: () => Date.now() } : {});
const gcAll = () => { for (let i = 0; i < 4; i++) globalThis.gc(); };
const run = async (n, keep) => {
  for (let i = 0; i < n; i++) {
    const c = await provider();
    if (c.accessKeyId !== 'AKIDMEMORYTEST000001') throw new Error('wrong credentials');
    if (keep) keep.push(c);
    // Yield an event-loop turn now and then, as a server would between requests.
    if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
  }
};
await run(50_000); // warm-up: JIT and inline caches settle before measuring
gcAll();
const before = process.memoryUsage().heapUsed;
const kept = mode === 'leaky-control' ? [] : undefined;
const started = performance.now();
await run(${GETS}, kept);
const elapsedMs = performance.now() - started;
gcAll();
const after = process.memoryUsage().heapUsed;
console.log(JSON.stringify({ before, after, growth: after - before, innerCalls, kept: kept?.length ?? 0, elapsedMs }));
`;

interface MemoryReport {
  before: number;
  after: number;
  growth: number;
  innerCalls: number;
  kept: number;
  elapsedMs: number;
}

let imds: ImdsServer;
beforeAll(async () => {
  imds = await startImdsServer();
  await buildChildEntry();
}, 60_000);
afterAll(async () => {
  await imds?.close();
});

describe('1,000,000 cached gets do not grow the heap (node --expose-gc, child process)', () => {
  it.each(['system-clock', 'injected-clock', 'no-expiration'] as const)('%s: heap growth after forced GC < 1 MB', async (mode) => {
    const result = await runChild(memoryScript(mode), ['--expose-gc']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = lastJson<MemoryReport>(result);
    console.info(`cached gets (${mode}): heap ${report.before} -> ${report.after} bytes (${report.growth} growth) over ${GETS} gets in ${Math.round(report.elapsedMs)} ms`);
    expect(report.innerCalls).toBe(1); // every get after the first came from the cache
    expect(report.growth).toBeLessThan(MAX_GROWTH_BYTES);
  });

  it('the measurement sees a leak: keeping every result grows the heap by megabytes', async () => {
    const result = await runChild(memoryScript('leaky-control'), ['--expose-gc']);
    expect(result.code).toBe(0);
    const report = lastJson<MemoryReport>(result);
    expect(report.kept).toBe(GETS);
    expect(report.growth).toBeGreaterThan(4 * MAX_GROWTH_BYTES); // 1M array slots: ~8 MB
  });
});

/** A child script that uses refreshing providers every way that could leave a timer or socket behind. */
const exitScript = (imdsEndpoint: string) => `
import { refreshing, makeCredentials, fromInstanceMetadata } from './lib.js';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const warnings = [];
const logger = { warn: (m) => warnings.push(String(m)) };

// 1. Short-lived credentials (system clock): cached gets, a background renewal, a failed one, invalidate().
let n = 0;
const inner = async () => {
  n += 1;
  if (n === 3) throw new Error('renewal failed on purpose');
  return makeCredentials({ accessKeyId: 'AKIDEXITTEST0000000' + n, secretAccessKey: 's', expiration: new Date(Date.now() + 1000) });
};
const short = refreshing(inner, { logger });
await short();
for (let i = 0; i < 10_000; i++) await short();
// Inside the advisory window (the last 250-300 ms), before the mandatory one (the last 100 ms). On a
// slow machine the sleep may overshoot into the mandatory window: the renewal is then awaited instead,
// and the failing one throws (caught); either way the same timers and promises get exercised.
await sleep(780);
await short(); // starts a background renewal
while (short.status().renewing) await sleep(1);
await sleep(780);
await short().catch(() => undefined); // a renewal that fails: logged, cached credentials still served
while (short.status().renewing) await sleep(1);
short.invalidate();
await short();
short.invalidate();

// 2. Credentials that never expire, and the same with an injected clock.
const forever = refreshing(async () => makeCredentials({ accessKeyId: 'AKIDEXITTESTFOREVER1', secretAccessKey: 's' }));
for (let i = 0; i < 1000; i++) await forever();
forever.invalidate();
const clocked = refreshing(inner, { now: () => Date.now() });
await clocked().catch(() => undefined);
clocked.invalidate();

// 3. Instance metadata over HTTP (keep-alive agent, IMDSv2 token, p-retry), behind refreshing.
const metadata = refreshing(fromInstanceMetadata({ endpoint: ${JSON.stringify(imdsEndpoint)}, env: {} }));
const c = await metadata();
for (let i = 0; i < 1000; i++) await metadata();
metadata.invalidate();
await metadata();
metadata.invalidate();

console.log(JSON.stringify({ resources: process.getActiveResourcesInfo(), innerCalls: n, warnings: warnings.length, imdsKey: c.accessKeyId }));
`;

describe('no timer keeps the process alive', () => {
  it('a process that used refreshing providers exits on its own within 3 s, with no Timeout active', async () => {
    const result = await runChild(exitScript(imds.endpoint), [], 10_000);
    expect(result.stderr).toBe('');
    expect(result.killed).toBe(false);
    expect(result.code).toBe(0);
    expect(result.exitLagMs).toBeLessThan(3000);
    const report = lastJson<{ resources: string[]; innerCalls: number; warnings: number; imdsKey: string }>(result);
    console.info(`exit check: active resources at the end: ${JSON.stringify(report.resources)}; exited ${Math.round(result.exitLagMs)} ms after its last line`);
    expect(report.resources).not.toContain('Timeout');
    expect(report.resources).not.toContain('Immediate');
    // The script did what it meant to: initial get, renewal, failed renewal, after invalidate(), injected clock.
    expect(report.innerCalls).toBeGreaterThanOrEqual(5);
    expect(report.warnings).toBeLessThanOrEqual(1); // 1 when the failed renewal ran in the background
    expect(report.imdsKey).toMatch(/^ASIAIMDS/);
    expect(imds.credentialsServed).toBeGreaterThanOrEqual(2);
  });

  it('the check sees a timer: a pending setTimeout shows as Timeout', async () => {
    const result = await runChild(
      `const t = setTimeout(() => {}, 60_000);\nconsole.log(JSON.stringify(process.getActiveResourcesInfo()));\nclearTimeout(t);\n`,
    );
    expect(JSON.parse(result.stdout.trim()) as string[]).toContain('Timeout');
    expect(result.exitLagMs).toBeLessThan(3000);
  });
});
