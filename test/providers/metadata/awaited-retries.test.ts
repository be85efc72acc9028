import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startContainerServer, type ContainerServer } from '../../../src/testing/container-server.js';
import { IMDS_PATHS, startImdsServer, type ImdsServer } from '../../../src/testing/imds-server.js';
import type { MetadataFault } from '../../../src/testing/metadata-server-common.js';
import { buildMetadataChild, runMetadataChild } from './helpers/metadata-child.js';

/**
 * Issue 11 (timers): a retry a caller awaits must keep the process alive. Each case runs a child
 * process (ESM and CommonJS) whose only work is one awaited resolve through a fault that needs one
 * retry; it must print the result and exit 0 (an unref'd backoff timer made ESM exit 13 with an
 * unsettled top-level await, and CommonJS exit 0 with nothing printed).
 */

let imds: ImdsServer;
let container: ContainerServer;
beforeAll(async () => {
  imds = await startImdsServer({ region: 'eu-west-3' });
  container = await startContainerServer();
  await buildMetadataChild();
}, 60_000);
afterAll(async () => {
  await Promise.all([imds?.close(), container?.close()]);
});

type Case = {
  name: string;
  server: () => ImdsServer | ContainerServer;
  fault: MetadataFault;
  /** An expression that resolves to the value printed; `lib` is the module. */
  call: () => string;
};

const CASES: Case[] = [
  { name: 'IMDS token PUT answers 500 once', server: () => imds, fault: { method: 'PUT', status: 500 }, call: () => `lib.fromInstanceMetadata({ endpoint: ${JSON.stringify(imds.endpoint)}, env: {} })().then((c) => c.accessKeyId)` },
  { name: 'IMDS role list hangs once (timeout)', server: () => imds, fault: { path: IMDS_PATHS.roleList, hang: true }, call: () => `lib.fromInstanceMetadata({ endpoint: ${JSON.stringify(imds.endpoint)}, env: {}, timeoutMs: 300 })().then((c) => c.accessKeyId)` },
  { name: 'IMDS role list answers 503 once', server: () => imds, fault: { path: IMDS_PATHS.roleList, status: 503 }, call: () => `lib.fromInstanceMetadata({ endpoint: ${JSON.stringify(imds.endpoint)}, env: {} })().then((c) => c.accessKeyId)` },
  { name: 'IMDS credentials answer 500 once', server: () => imds, fault: { path: IMDS_PATHS.credentials('credchain-test-role'), status: 500 }, call: () => `lib.fromInstanceMetadata({ endpoint: ${JSON.stringify(imds.endpoint)}, env: {} })().then((c) => c.accessKeyId)` },
  { name: 'IMDS region answers 500 once', server: () => imds, fault: { path: IMDS_PATHS.region, status: 500 }, call: () => `lib.regionFromInstanceMetadata({ endpoint: ${JSON.stringify(imds.endpoint)}, env: {} })` },
  { name: 'container endpoint answers 500 once', server: () => container, fault: { status: 500 }, call: () => `lib.fromContainerMetadata({ env: { AWS_CONTAINER_CREDENTIALS_FULL_URI: ${JSON.stringify(container.url)} } })().then((c) => c.accessKeyId)` },
  { name: 'container endpoint hangs once (timeout)', server: () => container, fault: { hang: true }, call: () => `lib.fromContainerMetadata({ env: { AWS_CONTAINER_CREDENTIALS_FULL_URI: ${JSON.stringify(container.url)} }, timeoutMs: 300 })().then((c) => c.accessKeyId)` },
];

const scripts = {
  esm: (call: string) => `import * as lib from './lib.mjs';\nconst value = await ${call};\nconsole.log(JSON.stringify({ value }));\n`,
  cjs: (call: string) => `const lib = require('./lib.cjs');\n${call}.then((value) => console.log(JSON.stringify({ value })));\n`,
};

describe('an awaited metadata retry keeps the process alive (child process: one awaited resolve, one fault)', () => {
  for (const kind of ['esm', 'cjs'] as const) {
    for (const c of CASES) {
      it(`${kind}: ${c.name}`, async () => {
        const server = c.server();
        server.clearFaults();
        server.resetLog();
        server.addFault({ ...c.fault, times: 1 });
        const result = await runMetadataChild(scripts[kind](c.call()), kind);
        expect(result.stderr).toBe('');
        expect(result.code).toBe(0);
        const printed = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? 'null') as { value: string } | null;
        expect(printed?.value).toMatch(/^(ASIA|eu-west-3)/);
        expect(server.requests.some((r) => r.status === 200)).toBe(true); // the retry got through
      });
    }
  }
});
