// Static stability after an instance-metadata outage (issue 17): 60 s credentials, IMDS answering 503
// from 40 s to 55 s, a caller every 100 ms for 120 s through refreshing(fromInstanceMetadata()), on a
// fake clock against the local IMDS server. Counts the calls served the old (extended) credentials
// after IMDS answered again, in all and after one backoff step (goal: 0).
// `npm run build && node bench/metadata-stability.mjs`. CREDCHAIN_DIST overrides the dist directory
// (e.g. a build of an older commit, for the "before" figure).
import { pathToFileURL } from 'node:url';
import { row } from './lib.mjs';

const dist = process.env.CREDCHAIN_DIST ? pathToFileURL(`${process.env.CREDCHAIN_DIST.replace(/\/$/, '')}/`) : new URL('../dist/', import.meta.url);

/** Rows for the bench report (see bench/lib.mjs `row`); `anchor` is the same run with no outage at all. */
export async function benchMetadataStability({ downFromS = 40, upAtS = 55, runS = 120, stepMs = 100 } = {}) {
  const { fromInstanceMetadata, refreshing } = await import(new URL('index.js', dist).href);
  const { startImdsServer, createFakeClock } = await import(new URL('testing/index.js', dist).href);
  const clock = createFakeClock(Date.UTC(2026, 0, 1));
  const start = clock.now();
  const server = await startImdsServer({ now: clock.now, credentialsLifetimeSeconds: 60 });
  try {
    const imds = fromInstanceMetadata({ endpoint: server.endpoint, env: {}, now: clock.now, retryDelayMs: 0, timeoutMs: 200 });
    const cache = refreshing(imds, { now: clock.now });
    const stability = () => imds.status?.(); // absent before this change (CREDCHAIN_DIST of an older build)
    let firstKey;
    let extendedAfterUp = 0;
    let extendedAfterStep = 0;
    let stepEndMs;
    for (let t = 0; t <= runS * 1000; t += stepMs) {
      clock.set(start + t);
      if (t === downFromS * 1000) server.addFault({ status: 503, times: Infinity });
      if (t === upAtS * 1000) {
        server.clearFaults();
        // One backoff step: until the next attempt the provider had planned (or now, when none is).
        const next = stability()?.nextAttemptAt?.getTime();
        stepEndMs = Math.max(next === undefined ? start + t : next, start + t) - start + 1000; // + the 1 s in-flight recheck
      }
      const c = await cache();
      firstKey ??= c.accessKeyId;
      if (t >= upAtS * 1000 && c.accessKeyId === firstKey) {
        extendedAfterUp += 1;
        if (t > stepEndMs) extendedAfterStep += 1;
      }
      // Let renewals and background attempts (real loopback HTTP) finish before time moves on.
      for (let i = 0; i < 200 && (cache.status().renewing || stability()?.attempting); i++) await new Promise((r) => setTimeout(r, 2));
      await new Promise((r) => setImmediate(r));
    }
    return [
      row(`IMDS down ${downFromS}-${upAtS} s, 60 s credentials: calls served extended credentials after IMDS answered again`, extendedAfterUp, 0, 'calls', undefined, 'no outage'),
      row(`IMDS down ${downFromS}-${upAtS} s: ... after one backoff step (goal: 0)`, extendedAfterStep, 0, 'calls', undefined, 'no outage'),
    ];
  } finally {
    await server.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const r of await benchMetadataStability()) console.log(`${r.name}: ours ${r.ours} ${r.unit} (${r.anchorName}: ${r.anchor})`);
  process.exit(0);
}
