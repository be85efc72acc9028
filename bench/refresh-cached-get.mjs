// The cost of a cached get of expiring credentials now that every get compares the expiration with
// the clock (one Date.now() per get), vs the memoized provider of @aws-sdk/credential-providers
// (fromNodeProviderChain: @smithy/property-provider memoize, which also reads the clock per get).
import { pathToFileURL } from 'node:url';
import { nsPerCall, row } from './lib.mjs';

const dist = process.env.CREDCHAIN_DIST ? pathToFileURL(`${process.env.CREDCHAIN_DIST.replace(/\/$/, '')}/`) : new URL('../dist/', import.meta.url);
const ANCHOR = '@aws-sdk/credential-providers fromNodeProviderChain (memoized)';

/** Rows for the bench report (see bench/lib.mjs `row`). */
export async function benchRefreshCachedGet() {
  const { refreshing, fromStatic } = await import(new URL('index.js', dist).href);
  const expiration = new Date(Date.now() + 3600_000);
  const input = { accessKeyId: 'AKIDBENCHREFRESH', secretAccessKey: 'secret', sessionToken: 'token', expiration };
  const ours = refreshing(fromStatic(input));
  // The SDK's chain finds these variables in fromEnv and memoizes the result until 5 minutes before expiry.
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: input.accessKeyId,
    AWS_SECRET_ACCESS_KEY: input.secretAccessKey,
    AWS_SESSION_TOKEN: input.sessionToken,
    AWS_CREDENTIAL_EXPIRATION: expiration.toISOString(),
  });
  const { fromNodeProviderChain } = await import('@aws-sdk/credential-providers');
  const sdk = fromNodeProviderChain();
  const first = await sdk();
  if (first.accessKeyId !== input.accessKeyId || !first.expiration) throw new Error('the SDK chain did not pick up the test credentials from the environment');
  const settled = Promise.resolve(input);
  const bareNs = await nsPerCall(() => settled);
  let sink = 0;
  const clockNs = await nsPerCall(() => {
    sink += Date.now();
    return settled;
  });
  const oursNs = await nsPerCall(ours);
  const sdkNs = await nsPerCall(sdk);
  if (sink === 0) throw new Error('unreachable');
  return [
    row('refreshing cached get, expiring credentials, clock read per get (ns per awaited call)', oursNs, sdkNs, 'ns', 0.5, ANCHOR),
    row('refreshing cached get (ns above a bare `await` of a settled promise)', Math.max(0, oursNs - bareNs), sdkNs - bareNs, 'ns', 0.5, ANCHOR),
    { name: 'of which Date.now() (ns above a bare `await`; bare await itself in anchor column)', ours: Math.max(0, clockNs - bareNs), anchor: bareNs, unit: 'ns', ratio: Number.NaN, anchorName: 'bare await' },
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const r of await benchRefreshCachedGet()) console.log(`${r.name}: ${r.ours.toFixed(2)} ${r.unit} vs ${r.anchor.toFixed(2)} ${r.unit} (${r.anchorName}) ratio ${r.ratio.toFixed(2)}`);
}
