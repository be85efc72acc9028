// Issue 15 load: CONCURRENCY credential requests at once (each on its own connection) to one
// `credchain serve`, in ROUNDS rounds; p50/p99/max latency, and the server's resident memory before
// and after (peak too). Static keys (no STS in the measurement). The anchor row is the same number
// of requests to /healthz (no token check, no credentials), the server's floor.
// `npm run build && node bench/serve-load.mjs [concurrency] [rounds]`.
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { row } from './lib.mjs';
import { memoryMb, spawnServe } from './serve-common.mjs';

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

function burst(url, token, n) {
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  const one = () =>
    new Promise((resolve) => {
      const started = process.hrtime.bigint();
      const req = http.get(url, { agent, headers: token ? { authorization: token } : {} }, (res) => {
        res.resume();
        res.on('end', () => resolve({ ms: Number(process.hrtime.bigint() - started) / 1e6, status: res.statusCode }));
      });
      req.on('error', (error) => resolve({ ms: Number(process.hrtime.bigint() - started) / 1e6, status: error.code ?? 'error' }));
    });
  return Promise.all(Array.from({ length: n }, one)).finally(() => agent.destroy());
}

export async function benchServeLoad({ concurrency = 1000, rounds = 5 } = {}) {
  const serve = await spawnServe(['serve'], { AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE', AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' });
  try {
    const before = memoryMb(serve.pid);
    const run = async (url, token) => {
      const all = [];
      for (let r = 0; r < rounds; r += 1) all.push(...(await burst(url, token, concurrency)));
      const ok = all.filter((x) => x.status === 200).length;
      const ms = all.map((x) => x.ms).sort((a, b) => a - b);
      return { ok, total: all.length, p50: percentile(ms, 50), p99: percentile(ms, 99), max: ms[ms.length - 1], statuses: [...new Set(all.map((x) => x.status))] };
    };
    await burst(serve.url, serve.token, 50); // warm-up
    const health = await run(serve.url.replace('/credentials', '/healthz'));
    const creds = await run(serve.url, serve.token);
    const after = memoryMb(serve.pid);
    const result = { concurrency, rounds, creds, health, rssBeforeMb: before.rss, rssAfterMb: after.rss, peakMb: after.peak };
    console.error(`serve-load: ${JSON.stringify(result)}`);
    return [
      row(`serve load: p99 latency, ${concurrency} concurrent credential requests ×${rounds} (${creds.ok}/${creds.total} ok)`, creds.p99, health.p99, 'ms', undefined, `/healthz, same load`),
      row(`serve load: server resident memory after (peak ${after.peak.toFixed(1)} MB; ${before.rss.toFixed(1)} MB before)`, after.rss, before.rss, 'MB', undefined, 'before the load'),
    ];
  } finally {
    await serve.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rows = await benchServeLoad({ concurrency: Number(process.argv[2] ?? 1000), rounds: Number(process.argv[3] ?? 5) });
  console.log(JSON.stringify(rows, null, 2));
}
