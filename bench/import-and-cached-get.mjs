// Cold import of the package root and the cost of a cached get, ours vs the AWS SDK's.
import { fileURLToPath } from 'node:url';
import { processMs, nsPerCall, row } from './lib.mjs';

const ours = fileURLToPath(new URL('../dist/index.js', import.meta.url));

export async function benchImport() {
  const bare = processMs('');
  const oursMs = processMs(`await import(${JSON.stringify(ours)})`) - bare;
  const sdkMs = processMs(`await import('@aws-sdk/credential-providers')`) - bare;
  return [row('cold import of the package root (ms above bare node, median of 10)', oursMs, sdkMs, 'ms', 0.3, '@aws-sdk/credential-providers')];
}

export async function benchCachedGet() {
  const { refreshing, fromStatic } = await import(ours);
  const { memoizeIdentityProvider, isIdentityExpired, doesIdentityRequireRefresh } = await import('@smithy/core');
  const expiration = new Date(Date.now() + 3600_000);
  const input = { accessKeyId: 'AKIDBENCH', secretAccessKey: 'secret', sessionToken: 'token', expiration };
  const oursProvider = refreshing(fromStatic(input));
  const sdkProvider = memoizeIdentityProvider(async () => ({ ...input }), isIdentityExpired, doesIdentityRequireRefresh);
  const settled = Promise.resolve(input);
  const bareNs = await nsPerCall(() => settled);
  const oursNs = await nsPerCall(oursProvider);
  const sdkNs = await nsPerCall(sdkProvider);
  const anchor = '@smithy/core memoizeIdentityProvider';
  return [
    row('cached get (ns per awaited call)', oursNs, sdkNs, 'ns', 0.5, anchor),
    row('cached get (ns above a bare `await` of a settled promise)', Math.max(0, oursNs - bareNs), sdkNs - bareNs, 'ns', 0.5, anchor),
  ];
}
