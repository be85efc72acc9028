// The issue-11 outage: 60 s role credentials, STS answering 500 for 30 s from inside the renewal
// window. Real HTTP to the local STS server (src/testing/sts-server.ts, told to fail), the STS client's
// own retries included (3 retries: 4 requests per renewal). Time runs SPEED times faster than the wall
// clock on one shared clock (server, STS client, refreshing), and the STS client's retry delays are
// divided by SPEED, so a 3-minute scenario takes 18 s. `REFRESH_BENCH_SPEED=1` runs it in real time.
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const dist = process.env.CREDCHAIN_DIST ? pathToFileURL(`${process.env.CREDCHAIN_DIST.replace(/\/$/, '')}/`) : new URL('../dist/', import.meta.url);
const SPEED = Number(process.env.REFRESH_BENCH_SPEED ?? 10);
const SEC = 1000;
const ROLE = 'arn:aws:iam::111122223333:role/bench-outage';
const LIFETIME = 60 * SEC;
const OUTAGE = 30 * SEC;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const p99 = (values) => {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)];
};

/**
 * One scenario; times are simulated ms from the start. The outage starts `lead` ms before the renewal
 * window of the first credentials opens (their `refreshAt`, 42-45 s), so their renewal fails.
 */
async function scenario(lead, { durationMs = 180 * SEC, callEveryMs = 100 } = {}) {
  const { refreshing, fromAssumeRole, fromStatic, clearStsSessionCache } = await import(new URL('index.js', dist).href);
  const { startStsServer, STS_SERVER_DEFAULT_USER: user } = await import(new URL('testing/index.js', dist).href);
  clearStsSessionCache();
  const realStart = performance.now();
  const simStart = Date.now();
  const now = () => simStart + Math.floor((performance.now() - realStart) * SPEED);
  const elapsed = () => now() - simStart;
  const server = await startStsServer({ now });
  try {
    const bare = fromAssumeRole({
      roleArn: ROLE,
      roleSessionName: 'bench-outage',
      source: fromStatic({ accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey }),
      sts: { endpoint: server.url, region: 'us-east-1', env: {}, baseDelay: 300 / SPEED, maxDelay: 20_000 / SPEED },
      now,
      refresh: false,
      sessionCache: false,
    });
    // 60 s role credentials: the server's session is cut to 60 s from when it was issued.
    const sixtySeconds = async () => {
      const c = await bare();
      return { ...c, expiration: new Date(Math.min(c.expiration.getTime(), now() + LIFETIME)) };
    };
    const provider = refreshing(sixtySeconds, { now });
    const calls = []; // { at, ms, ok, fresh }
    const samples = []; // [at, server requests so far]
    let down = false;
    const pending = [];
    await provider();
    const outageStart = provider.status().refreshAt - simStart - lead;
    while (elapsed() < durationMs) {
      const at = elapsed();
      if (!down && at >= outageStart && at < outageStart + OUTAGE) {
        server.setFaultRate(1, { kind: 'server-error' });
        down = true;
      } else if (down && at >= outageStart + OUTAGE) {
        server.clearFaults();
        down = false;
      }
      samples.push([at, server.counts.total ?? 0]);
      const t0 = performance.now();
      pending.push(
        provider().then(
          (c) => calls.push({ at, ms: (performance.now() - t0) * SPEED, ok: true, obtained: c.expiration.getTime() - LIFETIME - simStart }),
          () => calls.push({ at, ms: (performance.now() - t0) * SPEED, ok: false }),
        ),
      );
      await sleep(callEveryMs / SPEED);
    }
    await Promise.all(pending);
    const outageEnd = outageStart + OUTAGE;
    // Worst minute of STS requests (sampled at every call).
    let worstMinute = 0;
    for (let i = 0, j = 0; i < samples.length; i += 1) {
      while (j < samples.length && samples[j][0] < samples[i][0] + 60 * SEC) j += 1;
      worstMinute = Math.max(worstMinute, samples[j - 1][1] - (i > 0 ? samples[i - 1][1] : 0));
    }
    const failed = calls.filter((c) => !c.ok);
    // "After the first failure": calls made once the first failed call has returned.
    const firstFailure = failed.length ? Math.min(...failed.map((c) => c.at + c.ms)) : undefined;
    const recovered = calls.filter((c) => c.ok && c.at >= outageEnd && c.obtained >= outageEnd - 1000).map((c) => c.at);
    const freshAt = recovered.length ? Math.min(...recovered) : undefined;
    const whileFailing = calls.filter((c) => firstFailure !== undefined && c.at >= firstFailure && (freshAt === undefined || c.at < freshAt));
    const blocked = calls.filter((c) => c.ms > 50).map((c) => c.at);
    return {
      outageStart,
      worstMinute,
      failedCalls: failed.length,
      calls: calls.length,
      p99WhileFailing: p99(whileFailing.map((c) => c.ms)),
      callsOver50ms: blocked.length,
      recoveryMs: freshAt === undefined ? Number.POSITIVE_INFINITY : freshAt - outageEnd,
      firstFailedCallAt: firstFailure,
    };
  } finally {
    await server.close();
  }
}

/** Rows for the bench report (see bench/lib.mjs `row`). */
export async function benchRefreshOutage() {
  const runs = [];
  for (const lead of [1, 5 * SEC]) runs.push(await scenario(lead));
  const worst = (key) => Math.max(...runs.map((r) => r[key]));
  const note = `worst of outages from ${runs.map((r) => (r.outageStart / SEC).toFixed(1)).join(' s, ')} s; time ×${SPEED}`;
  const goalRow = (name, ours, goal, unit) => ({ name: `${name} (goal ≤ ${goal})`, ours, anchor: Number.NaN, unit, ratio: Number.NaN, anchorName: note, met: ours <= goal });
  return [
    goalRow('outage, 60 s role credentials, STS 500 for 30 s: STS requests in the worst minute', worst('worstMinute'), 12, 'req'),
    goalRow('outage: p99 call latency from the first failed call to recovery', worst('p99WhileFailing'), 50, 'ms'),
    { name: 'outage: failed calls / calls over 50 ms / recovery after the outage ends', ours: worst('failedCalls'), anchor: Number.NaN, unit: `failed, ${worst('callsOver50ms')} slow, fresh ${Math.round(worst('recoveryMs') / SEC)} s after recovery`, ratio: Number.NaN, anchorName: `${runs[0].calls} calls per run, one every 100 ms` },
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const lead of [1, 5 * SEC]) console.log(JSON.stringify(await scenario(lead)));
}
