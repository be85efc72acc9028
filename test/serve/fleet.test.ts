import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startImdsServer, startStsServer, STS_SERVER_DEFAULT_USER as USER, type ImdsServer, type StsServer } from '../../src/testing/index.js';
import { makeAwsHome, type AwsHome } from '../helpers/aws-home.js';
import { buildCli } from '../helpers/built-cli.js';
import { SecretProbe } from '../helpers/secrets-probe.js';
import { spawnServe } from './serve-cli.js';

/**
 * The fleet on real time, shortened (bench/serve-fleet.mjs runs 20 clients for 90 s with 60 s
 * credentials): 8 client processes, each the AWS SDK's container provider asking every 200 ms for
 * 10 s through one `credchain serve` holding 20 s role credentials. The local STS runs its clock
 * 880 s behind, so its shortest session (900 s) expires 20 s from now on ours.
 */

const root = fileURLToPath(new URL('../..', import.meta.url));
const client = fileURLToPath(new URL('../../bench/serve-fleet-client.mjs', import.meta.url));
const LIFETIME_S = 20;
const CLIENTS = 8;
const DURATION_MS = 10_000;

let sts: StsServer;
let imds: ImdsServer;
let home: AwsHome;

beforeAll(async () => {
  await buildCli();
  sts = await startStsServer({ now: () => Date.now() - (900 - LIFETIME_S) * 1000, maxSignatureAgeMs: 60 * 60_000 });
  imds = await startImdsServer();
  home = makeAwsHome({
    credentials: `[src]\naws_access_key_id = ${USER.accessKeyId}\naws_secret_access_key = ${USER.secretAccessKey}\n`,
    config: `[profile fleet]\nrole_arn = arn:aws:iam::123456789012:role/fleet\nsource_profile = src\nduration_seconds = 900\n`,
  });
}, 60_000);
afterAll(async () => {
  await sts.close();
  await imds.close();
  home.remove();
});

interface ClientStats {
  asks: number;
  failures: number;
  expired: number;
  minRemainingMs: number;
  keys: number;
  firstError?: string;
}

it(`fleet: ${CLIENTS} clients every 200 ms through one server: one STS call per renewal, none to IMDS, nothing expired`, async () => {
  const serve = await spawnServe(['--profile', 'fleet', 'serve'], {
    HOME: home.home,
    AWS_ENDPOINT_URL_STS: sts.url,
    AWS_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'false',
    AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.endpoint,
  });
  const token = readFileSync(serve.tokenFile, 'utf8');
  const started = Date.now();
  const stats = await Promise.all(
    Array.from(
      { length: CLIENTS },
      () =>
        new Promise<ClientStats>((resolve, reject) => {
          execFile(
            process.execPath,
            [client, String(DURATION_MS), '200'],
            {
              cwd: root,
              env: {
                PATH: process.env.PATH ?? '',
                HOME: '/nonexistent-home',
                AWS_CONTAINER_CREDENTIALS_FULL_URI: serve.url,
                AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: serve.tokenFile,
                AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.endpoint,
              },
              timeout: 60_000,
            },
            (error, stdout, stderr) => (error ? reject(new Error(`client failed: ${stderr}`)) : resolve(JSON.parse(stdout) as ClientStats)),
          );
        }),
    ),
  );
  const elapsedMs = Date.now() - started;
  const probe = new SecretProbe();
  probe.text('serve output', serve.stdout() + serve.stderr());
  expect(await serve.stop()).toBe(0);

  for (const s of stats) {
    expect(s, JSON.stringify(s)).toMatchObject({ failures: 0, expired: 0 });
    expect(s.asks).toBeGreaterThan(20);
    // Never handed anything inside the margin (half of 20 s), give or take a slow machine.
    expect(s.minRemainingMs).toBeGreaterThan(5_000);
  }
  // The initial session plus one per renewal (every ~10 s); none from the clients.
  const assumeRoles = sts.counts.AssumeRole ?? 0;
  expect(assumeRoles).toBeGreaterThanOrEqual(2);
  expect(assumeRoles).toBeLessThanOrEqual(2 + Math.ceil(elapsedMs / ((LIFETIME_S * 1000) / 2)));
  expect(sts.counts.total).toBe(assumeRoles);
  expect(imds.requests.length).toBe(0);
  expect(Math.max(...stats.map((s) => s.keys))).toBeGreaterThanOrEqual(2); // the clients saw the renewal
  expect(probe.leaks([USER.secretAccessKey, ...sts.issued.flatMap((c) => [c.secretAccessKey, c.sessionToken]), token])).toEqual([]);
}, 90_000);
