// STS requests made by many concurrent callers through a two-hop role chain, counted by the local
// STS server: on a cold start, then when both hops near expiry (fake clock). Anchor:
// @aws-sdk/credential-providers `fromTemporaryCredentials` chained twice (masterCredentials = first).
import { pathToFileURL } from 'node:url';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { row } from './lib.mjs';

const dist = process.env.CREDCHAIN_DIST ? pathToFileURL(`${process.env.CREDCHAIN_DIST.replace(/\/$/, '')}/`) : new URL('../dist/', import.meta.url);
const FIRST = 'arn:aws:iam::111122223333:role/bench-first';
const SECOND = 'arn:aws:iam::111122223333:role/bench-second';
const MINUTE = 60_000;
const ANCHOR = '@aws-sdk/credential-providers fromTemporaryCredentials ×2';

const wave = (provider, callers) => Promise.all(Array.from({ length: callers }, () => provider()));

/** Rows for the bench report (see bench/lib.mjs `row`). */
export async function benchRoleChain({ callers = 100 } = {}) {
  const { fromAssumeRole, fromStatic, clearStsSessionCache } = await import(new URL('index.js', dist).href);
  const { startStsServer, createFakeClock, STS_SERVER_DEFAULT_USER: user } = await import(new URL('testing/index.js', dist).href);
  if (!fromAssumeRole || !fromStatic || !clearStsSessionCache || !startStsServer || !createFakeClock) {
    throw new Error('dist does not export fromAssumeRole / fromStatic / clearStsSessionCache / startStsServer / createFakeClock yet');
  }
  clearStsSessionCache();
  const keys = { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey };

  // Ours: the clock starts at the real time and is moved by hand; the server shares it.
  const clock = createFakeClock(Date.now());
  const server = await startStsServer({ now: clock.now });
  let ours;
  try {
    const common = { sts: { endpoint: server.url, region: 'us-east-1', env: {} }, now: clock.now };
    const first = fromAssumeRole({ ...common, roleArn: FIRST, source: fromStatic(keys), roleSessionName: 'bench-first' });
    const second = fromAssumeRole({ ...common, roleArn: SECOND, source: first, roleSessionName: 'bench-second' });
    await wave(second, callers);
    const cold = server.counts.total;
    clock.advance(55 * MINUTE); // both 1-hour sessions inside their mandatory window
    await wave(second, callers);
    ours = { cold, nearExpiry: server.counts.total - cold };
  } finally {
    await server.close();
  }

  // The SDK signs with the real clock, so it gets a server on the real clock too.
  const sdkServer = await startStsServer();
  let sdk;
  try {
    const clientConfig = { endpoint: sdkServer.url, region: 'us-east-1' };
    const first = fromTemporaryCredentials({ params: { RoleArn: FIRST, RoleSessionName: 'bench-first' }, masterCredentials: keys, clientConfig });
    const second = fromTemporaryCredentials({ params: { RoleArn: SECOND, RoleSessionName: 'bench-second' }, masterCredentials: first, clientConfig });
    await wave(second, callers);
    const cold = sdkServer.counts.total;
    // It keeps no credential cache of its own, so a second wave (credentials still fresh) costs the same.
    await wave(second, callers);
    sdk = { cold, second: sdkServer.counts.total - cold };
  } finally {
    await sdkServer.close();
  }

  const coldRow = row(`two-hop role chain, ${callers} concurrent calls, cold: STS requests (goal: 2)`, ours.cold, sdk.cold, 'req', undefined, ANCHOR);
  const renewRow = row(
    `two-hop role chain, ${callers} concurrent calls, both hops near expiry: STS requests (goal: 2; SDK: second wave, nothing expiring)`,
    ours.nearExpiry,
    sdk.second,
    'req',
    undefined,
    ANCHOR,
  );
  return [
    { ...coldRow, met: ours.cold === 2 },
    { ...renewRow, met: ours.nearExpiry === 2 },
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = await benchRoleChain();
  for (const r of rows) console.log(`${r.name}: ours ${r.ours} ${r.unit}, ${r.anchorName} ${r.anchor} ${r.unit}, met: ${r.met}`);
  process.exit(0);
}
