// Issue 15 fleet: CLIENTS client processes (the AWS SDK's container provider, bench/serve-fleet-client.mjs)
// ask one `credchain serve` for credentials every INTERVAL ms for DURATION s; the server holds role
// credentials of LIFETIME s (the local STS runs its clock 900 − LIFETIME s behind, so its shortest
// session, 900 s, expires LIFETIME s from now). Counts STS requests (one per renewal expected: with
// 60 s credentials the server renews with 30 s left, about 2 a minute), IMDS requests (0 expected)
// and expired or failed answers seen by the clients (0 expected).
// `npm run build && node bench/serve-fleet.mjs [clients] [seconds]`.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { row } from './lib.mjs';
import { dist, spawnServe } from './serve-common.mjs';

const client = fileURLToPath(new URL('./serve-fleet-client.mjs', import.meta.url));
const root = fileURLToPath(new URL('..', import.meta.url));

export async function benchServeFleet({ clients = 20, durationS = 90, intervalMs = 200, lifetimeS = 60 } = {}) {
  const { startStsServer, startImdsServer, STS_SERVER_DEFAULT_USER: USER } = await import(pathToFileURL(`${dist}testing/index.js`).href);
  const sts = await startStsServer({ now: () => Date.now() - (900 - lifetimeS) * 1000, maxSignatureAgeMs: 60 * 60_000 });
  const imds = await startImdsServer();
  const home = mkdtempSync(path.join(os.tmpdir(), 'credchain-fleet-'));
  mkdirSync(path.join(home, '.aws'));
  writeFileSync(path.join(home, '.aws', 'credentials'), `[src]\naws_access_key_id = ${USER.accessKeyId}\naws_secret_access_key = ${USER.secretAccessKey}\n`);
  writeFileSync(path.join(home, '.aws', 'config'), '[profile fleet]\nrole_arn = arn:aws:iam::123456789012:role/fleet\nsource_profile = src\nduration_seconds = 900\n');
  const serve = await spawnServe(['--profile', 'fleet', 'serve'], {
    HOME: home,
    AWS_ENDPOINT_URL_STS: sts.url,
    AWS_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'false',
    AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.endpoint,
  });
  try {
    const started = Date.now();
    const stats = await Promise.all(
      Array.from(
        { length: clients },
        () =>
          new Promise((resolve, reject) =>
            execFile(
              process.execPath,
              [client, String(durationS * 1000), String(intervalMs)],
              {
                cwd: root,
                env: {
                  PATH: process.env.PATH ?? '',
                  HOME: '/nonexistent-home',
                  AWS_CONTAINER_CREDENTIALS_FULL_URI: serve.url,
                  AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: serve.tokenFile,
                  AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.endpoint,
                },
                timeout: (durationS + 60) * 1000,
              },
              (error, stdout, stderr) => (error ? reject(new Error(stderr)) : resolve(JSON.parse(stdout))),
            ),
          ),
      ),
    );
    const minutes = (Date.now() - started) / 60_000;
    const sum = (k) => stats.reduce((n, s) => n + s[k], 0);
    const stsRequests = sts.counts.total ?? 0;
    const result = {
      clients,
      durationS,
      lifetimeS,
      asks: sum('asks'),
      failures: sum('failures'),
      expired: sum('expired'),
      minRemainingS: Math.min(...stats.map((s) => s.minRemainingMs)) / 1000,
      stsRequests,
      stsPerMinute: stsRequests / minutes,
      imdsRequests: imds.requests.length,
    };
    console.error(`serve-fleet: ${JSON.stringify(result)}`);
    return [
      // Anchor: every client renewing on its own, one STS call each per renewal (computed, not run).
      row(`serve fleet: STS requests per minute, ${clients} clients every ${intervalMs} ms, ${lifetimeS} s credentials, ${durationS} s`, result.stsPerMinute, result.stsPerMinute * clients, 'req/min', 1 / clients + 0.01, `${clients} processes on their own (computed)`),
      row(`serve fleet: client answers expired or failed (of ${result.asks}); IMDS requests ${result.imdsRequests}`, result.expired + result.failures, 0, 'answers', undefined, 'goal 0'),
    ];
  } finally {
    await serve.stop();
    await sts.close();
    await imds.close();
    rmSync(home, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rows = await benchServeFleet({ clients: Number(process.argv[2] ?? 20), durationS: Number(process.argv[3] ?? 90) });
  console.log(JSON.stringify(rows, null, 2));
}
