// One client of the fleet (bench/serve-fleet.mjs, test/serve/fleet.test.ts): the AWS SDK's own
// container provider (fromHttp, which the node provider chain uses for
// AWS_CONTAINER_CREDENTIALS_FULL_URI), asked every INTERVAL ms for DURATION ms. One line of JSON at
// the end: how many asks, failures, expired answers, the least time left seen, distinct keys.
// Never prints a secret.
import { fromHttp } from '@aws-sdk/credential-providers';

const durationMs = Number(process.argv[2] ?? 10_000);
const intervalMs = Number(process.argv[3] ?? 200);
const provider = fromHttp({ timeout: 5_000 });
const stats = { asks: 0, failures: 0, expired: 0, minRemainingMs: Infinity, keys: new Set(), firstError: undefined };
const end = Date.now() + durationMs;
while (Date.now() < end) {
  const started = Date.now();
  stats.asks += 1;
  try {
    const c = await provider();
    const remaining = c.expiration.getTime() - Date.now();
    if (remaining <= 0) stats.expired += 1;
    stats.minRemainingMs = Math.min(stats.minRemainingMs, remaining);
    stats.keys.add(c.accessKeyId);
  } catch (error) {
    stats.failures += 1;
    stats.firstError ??= String(error?.name ?? 'error');
  }
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, intervalMs - (Date.now() - started))));
}
console.log(JSON.stringify({ ...stats, keys: stats.keys.size }));
