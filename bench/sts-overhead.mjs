// STS client overhead: ours vs @aws-sdk/client-sts against the same local STS server, same run.
// `npm run build && node bench/sts-overhead.mjs`. CREDCHAIN_DIST overrides the dist directory.
import http from 'node:http';
import { pathToFileURL } from 'node:url';
import { GetCallerIdentityCommand, AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { median, row } from './lib.mjs';

const dist = process.env.CREDCHAIN_DIST ? pathToFileURL(`${process.env.CREDCHAIN_DIST.replace(/\/$/, '')}/`) : new URL('../dist/', import.meta.url);
const ROLE_ARN = 'arn:aws:iam::111122223333:role/bench';

/** Replays one captured signed request over a keep-alive agent: the server + transport floor. */
function replayer(url, record) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const headers = { ...record.headers };
  delete headers.connection;
  return () =>
    new Promise((resolve, reject) => {
      const req = http.request(url, { method: 'POST', headers, agent }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`replay got ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end(record.body);
    });
}

async function usPerCall(fn, calls) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i += 1) await fn();
  return Number(process.hrtime.bigint() - start) / calls / 1000;
}

/** Rows for the bench report (see bench/lib.mjs `row`). */
export async function benchSts({ calls = 1000, rounds = 7 } = {}) {
  const { StsClient } = await import(new URL('index.js', dist).href);
  const { startStsServer, STS_SERVER_DEFAULT_USER: user } = await import(new URL('testing/index.js', dist).href);
  if (!StsClient || !startStsServer) throw new Error('dist does not export StsClient / startStsServer yet');
  const server = await startStsServer();
  const credentials = { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey };
  const ours = new StsClient({ endpoint: server.url, region: 'us-west-2', credentials, env: {} });
  const sdk = new STSClient({ endpoint: server.url, region: 'us-west-2', credentials });
  try {
    const rows = [];
    const ops = [
      ['GetCallerIdentity', () => ours.getCallerIdentity(), () => sdk.send(new GetCallerIdentityCommand({}))],
      [
        'AssumeRole',
        () => ours.assumeRole({ roleArn: ROLE_ARN, roleSessionName: 'bench' }),
        () => sdk.send(new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: 'bench' })),
      ],
    ];
    for (const [name, oursCall, sdkCall] of ops) {
      // Requests per successful call, counted by the server.
      server.clearLog();
      await oursCall();
      const oursRequests = server.counts.total;
      const replay = replayer(server.url, server.requests[0]);
      server.clearLog();
      await sdkCall();
      const sdkRequests = server.counts.total;
      rows.push(row(`STS requests per successful ${name}`, oursRequests, sdkRequests, 'req', 1, '@aws-sdk/client-sts'));

      for (let i = 0; i < 200; i += 1) await Promise.all([oursCall(), sdkCall(), replay()]);
      const t = { ours: [], sdk: [], floor: [] };
      for (let r = 0; r < rounds; r += 1) {
        t.floor.push(await usPerCall(replay, calls));
        t.ours.push(await usPerCall(oursCall, calls));
        t.sdk.push(await usPerCall(sdkCall, calls));
      }
      const floor = median(t.floor);
      const oursMs = median(t.ours);
      const sdkMs = median(t.sdk);
      rows.push(row(`STS ${name} client overhead per call (above raw HTTP ${floor.toFixed(0)} µs)`, oursMs - floor, sdkMs - floor, 'µs', 0.5, '@aws-sdk/client-sts'));
      rows.push(row(`STS ${name} total time per call`, oursMs, sdkMs, 'µs', undefined, '@aws-sdk/client-sts'));
    }
    return rows;
  } finally {
    sdk.destroy();
    await server.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = await benchSts();
  const fmt = (n) => (Math.abs(n) >= 100 ? n.toFixed(0) : n.toFixed(2));
  for (const r of rows)
    console.log(`${r.name}: ours ${fmt(r.ours)} ${r.unit}, ${r.anchorName} ${fmt(r.anchor)} ${r.unit}, ratio ${fmt(r.ratio)}×${r.goal === undefined ? '' : ` (goal ≤ ${r.goal}×: ${r.met ? 'met' : 'NOT met'})`}`);
}
