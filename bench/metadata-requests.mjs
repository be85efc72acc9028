// Instance metadata: HTTP requests per renewal, and how long a process off EC2 waits for not-found,
// ours vs @smithy/credential-provider-imds against the same local servers, same run.
// `npm run build && node bench/metadata-requests.mjs`. CREDCHAIN_DIST overrides the dist directory.
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { fromContainerMetadata as sdkFromContainerMetadata, fromInstanceMetadata as sdkFromInstanceMetadata } from '@smithy/credential-provider-imds';
import { row } from './lib.mjs';

const dist = process.env.CREDCHAIN_DIST ? pathToFileURL(`${process.env.CREDCHAIN_DIST.replace(/\/$/, '')}/`) : new URL('../dist/', import.meta.url);

/** The SDK reads its IMDS endpoint from process.env; point it at `endpoint`, away from ~/.aws. */
function sdkEnv(endpoint) {
  process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT = endpoint;
  process.env.AWS_CONFIG_FILE = path.join(os.tmpdir(), 'credchain-bench-no-config');
  process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(os.tmpdir(), 'credchain-bench-no-credentials');
  delete process.env.AWS_EC2_METADATA_DISABLED;
  delete process.env.AWS_PROFILE;
}

/** ms until `call()` settles (it should reject: nothing is there). */
async function msUntilSettled(call) {
  const start = performance.now();
  try {
    await call();
  } catch {
    // not-found is the expected outcome
  }
  return performance.now() - start;
}

/** A loopback port that accepts connections and never answers (off EC2, the 169.254.169.254 case). */
async function blackhole() {
  const sockets = new Set();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.resume();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${server.address().port}`,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(r);
      }),
  };
}

/** A loopback port with nothing listening (connection refused). */
async function closedPort() {
  const server = net.createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return `http://127.0.0.1:${port}`;
}

/** Rows for the bench report (see bench/lib.mjs `row`). */
export async function benchMetadata({ renewals = 20 } = {}) {
  const { fromInstanceMetadata, fromContainerMetadata } = await import(new URL('index.js', dist).href);
  const { startImdsServer, startContainerServer } = await import(new URL('testing/index.js', dist).href);
  if (!fromInstanceMetadata || !fromContainerMetadata || !startImdsServer || !startContainerServer) {
    throw new Error('dist does not export fromInstanceMetadata / fromContainerMetadata / startImdsServer / startContainerServer yet');
  }
  const saved = { ...process.env };
  const rows = [];
  try {
    // Requests per renewal after the first, counted by the server (token required, as on new instances).
    const server = await startImdsServer({ tokens: 'required' });
    try {
      const ours = fromInstanceMetadata({ endpoint: server.endpoint, env: {} });
      await ours();
      server.resetLog();
      for (let i = 0; i < renewals; i += 1) await ours();
      const oursPerRenewal = server.count() / renewals;

      sdkEnv(server.endpoint);
      const sdk = sdkFromInstanceMetadata();
      await sdk();
      server.resetLog();
      for (let i = 0; i < renewals; i += 1) await sdk();
      const sdkPerRenewal = server.count() / renewals;
      const r = row('IMDS: HTTP requests per renewal after the first (goal: 1)', oursPerRenewal, sdkPerRenewal, 'req', undefined, '@smithy/credential-provider-imds');
      rows.push({ ...r, met: oursPerRenewal === 1 });
    } finally {
      await server.close();
    }

    // The same for the container endpoint (EKS Pod Identity style: full URI + token).
    const container = await startContainerServer({ authorizationToken: 'bench-token' });
    try {
      const env = { AWS_CONTAINER_CREDENTIALS_FULL_URI: container.url, AWS_CONTAINER_AUTHORIZATION_TOKEN: 'bench-token' };
      const ours = fromContainerMetadata({ env });
      await ours();
      container.resetLog();
      for (let i = 0; i < renewals; i += 1) await ours();
      const oursPerRenewal = container.count() / renewals;

      Object.assign(process.env, env);
      const sdk = sdkFromContainerMetadata();
      await sdk();
      container.resetLog();
      for (let i = 0; i < renewals; i += 1) await sdk();
      const sdkPerRenewal = container.count() / renewals;
      const r = row('container: HTTP requests per renewal (goal: 1)', oursPerRenewal, sdkPerRenewal, 'req', undefined, '@smithy/credential-provider-imds');
      rows.push({ ...r, met: oursPerRenewal === 1 });
    } finally {
      delete process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI;
      delete process.env.AWS_CONTAINER_AUTHORIZATION_TOKEN;
      await container.close();
    }

    // Off EC2: time to not-found, first call and second call of the same provider, then a new
    // provider in the same process. Both sides use a 1 s request timeout (each one's default).
    for (const [label, makeTarget] of [
      ['no answer (timeout)', blackhole],
      ['connection refused', async () => ({ endpoint: await closedPort(), close: async () => {} })],
    ]) {
      const oursTarget = await makeTarget();
      const sdkTarget = await makeTarget();
      try {
        const ours = fromInstanceMetadata({ endpoint: oursTarget.endpoint, env: {} });
        const oursFirst = await msUntilSettled(ours);
        const oursSecond = await msUntilSettled(ours);
        const oursNew = await msUntilSettled(fromInstanceMetadata({ endpoint: oursTarget.endpoint, env: {} }));

        sdkEnv(sdkTarget.endpoint);
        const sdk = sdkFromInstanceMetadata({ timeout: 1000 });
        const sdkFirst = await msUntilSettled(sdk);
        const sdkSecond = await msUntilSettled(sdk);
        const sdkNew = await msUntilSettled(sdkFromInstanceMetadata({ timeout: 1000 }));

        const anchor = '@smithy/credential-provider-imds';
        rows.push(row(`off EC2, ${label}: not-found, 1st call`, oursFirst, sdkFirst, 'ms', undefined, anchor));
        rows.push(row(`off EC2, ${label}: not-found, 2nd call`, oursSecond, sdkSecond, 'ms', undefined, anchor));
        rows.push(row(`off EC2, ${label}: not-found, new provider`, oursNew, sdkNew, 'ms', undefined, anchor));
      } finally {
        await oursTarget.close();
        await sdkTarget.close();
      }
    }
  } finally {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = await benchMetadata();
  const fmt = (n) => (Number.isFinite(n) ? n.toFixed(n >= 100 ? 0 : 2) : String(n));
  for (const r of rows) console.log(`${r.name}: ours ${fmt(r.ours)} ${r.unit}, ${r.anchorName} ${fmt(r.anchor)} ${r.unit}, ratio ${fmt(r.ratio)}×`);
  process.exit(0);
}
