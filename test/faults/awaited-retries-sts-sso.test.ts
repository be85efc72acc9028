import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'tsup';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ssoTokenCacheFile } from '../../src/providers/sso/sso.js';
import { startStsServer, STS_SERVER_DEFAULT_USER, type StsFault, type StsServer } from '../../src/testing/sts-server.js';

/**
 * "No awaited work is dropped" for STS and SSO: a script whose only work is `await provider()` must
 * print the credentials and exit 0 even when the first call fails with a retryable error and the
 * answer comes only after a backoff sleep. During that sleep the keep-alive socket sits unref'd in
 * the agent's free pool, so the sleep's timer is the only thing keeping the process alive: an
 * unref'd timer there makes ESM exit 13 ("unsettled top-level await") and CommonJS exit 0 having
 * printed nothing. Each case runs in a real child process, as ESM and as CommonJS.
 */

const entry = fileURLToPath(new URL('./helpers/awaited-entry.ts', import.meta.url));
let dir = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'credchain-awaited-'));
  // One bundle per format, every dependency inlined, so the child resolves nothing from node_modules.
  await build({ entry: { lib: entry }, format: ['esm', 'cjs'], target: 'node20', platform: 'node', outDir: dir, config: false, silent: true, noExternal: [/./], splitting: false });
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

interface Child {
  code: number | null;
  stdout: string;
  stderr: string;
}

type Format = 'esm' | 'cjs';

/**
 * Runs `body` (statements that may `await`, ending in an awaited resolve whose result they print) as
 * the whole of a child script: top-level await in ESM, an async IIFE in CommonJS (whose rejection
 * would print to stderr). Nothing else in the script keeps the process alive.
 */
function runChild(format: Format, body: string, deadlineMs = 20_000): Promise<Child> {
  const name = `script-${Math.random().toString(36).slice(2)}`;
  const file = join(dir, format === 'esm' ? `${name}.mjs` : `${name}.cjs`);
  const names = 'fromStatic, fromAssumeRole, fromWebIdentity, fromSessionToken, fromSso';
  writeFileSync(
    file,
    format === 'esm'
      ? `import { ${names} } from './lib.js';\n${body}\n`
      : `const { ${names} } = require('./lib.cjs');\n(async () => {\n${body}\n})().catch((e) => { console.error(e); process.exitCode = 1; });\n`,
  );
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      setImmediate(() => resolve({ code, stdout, stderr }));
    });
  });
}

/** What the child prints: the key id and where it came from. */
const PRINT = `console.log(JSON.stringify({ accessKeyId: c.accessKeyId, hasSecret: typeof c.secretAccessKey === 'string' }));`;

async function stsServer(...faults: StsFault[]): Promise<StsServer> {
  const server = await startStsServer();
  servers.push(server);
  server.inject(...faults);
  return server;
}

/** STS client options for the child: the local server, a fixed 200 ms backoff (long enough that the sleep is all that is left). */
const stsOptions = (server: StsServer) => JSON.stringify({ endpoint: server.url, region: 'us-west-2', env: {}, baseDelay: 200, jitter: 'none' });
const user = JSON.stringify({ accessKeyId: STS_SERVER_DEFAULT_USER.accessKeyId, secretAccessKey: STS_SERVER_DEFAULT_USER.secretAccessKey });
const jwt = (() => {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'RS256', typ: 'JWT' })}.${part({ sub: 'pod', aud: 'sts.amazonaws.com', iss: 'https://oidc.example.com', exp: Math.floor(Date.now() / 1000) + 3600 })}.c2lnbmF0dXJl`;
})();

function expectPrinted(result: Child, accessKeyIdPattern: RegExp): void {
  expect(result.stderr, result.stderr).toBe('');
  expect(result.code).toBe(0);
  const line = result.stdout.trim().split('\n').at(-1) ?? '';
  expect(line, 'the awaited credentials were printed').not.toBe('');
  const printed = JSON.parse(line) as { accessKeyId: string; hasSecret: boolean };
  expect(printed.accessKeyId).toMatch(accessKeyIdPattern);
  expect(printed.hasSecret).toBe(true);
}

describe.each<Format>(['esm', 'cjs'])('an awaited resolve through a retry keeps the process alive (%s)', (format) => {
  it('fromAssumeRole: STS answers 500 InternalFailure, then the role', async () => {
    const server = await stsServer({ kind: 'server-error', action: 'AssumeRole' });
    const result = await runChild(
      format,
      `const p = fromAssumeRole({ roleArn: 'arn:aws:iam::111122223333:role/child', roleSessionName: 'child', source: fromStatic(${user}), sts: ${stsOptions(server)} });
const c = await p();
${PRINT}`,
    );
    expectPrinted(result, /^ASIA/);
    expect(server.requests.map((r) => [r.action, r.fault])).toEqual([
      ['AssumeRole', 'server-error'],
      ['AssumeRole', undefined],
    ]);
  });

  it('fromWebIdentity: STS throttles (400 Throttling), then answers', async () => {
    const server = await stsServer({ kind: 'throttle' });
    const result = await runChild(
      format,
      `const p = fromWebIdentity({ roleArn: 'arn:aws:iam::111122223333:role/web', roleSessionName: 'pod', webIdentityToken: ${JSON.stringify(jwt)}, sts: ${stsOptions(server)} });
const c = await p();
${PRINT}`,
    );
    expectPrinted(result, /^ASIA/);
    expect(server.requests.map((r) => r.fault)).toEqual(['throttle', undefined]);
  });

  it('fromSessionToken: the connection is reset once (a networking error), then STS answers', async () => {
    const server = await stsServer({ kind: 'reset' });
    const result = await runChild(format, `const c = await fromSessionToken({ source: fromStatic(${user}), sts: ${stsOptions(server)} })();\n${PRINT}`);
    expectPrinted(result, /^ASIA/);
    expect(server.requests.map((r) => r.fault)).toEqual(['reset', undefined]);
  });

  it('fromSso: the portal answers only after 300 ms (SSO has no retry: one request, the socket and its deadline keep the process up)', async () => {
    // The SSO provider makes one request and does not retry a 5xx (the sso_server_error conformance
    // case expects exactly one request), so its only timer on the awaited path is the request deadline.
    const requests: string[] = [];
    const portal = http.createServer((req, res) => {
      requests.push(req.url ?? '');
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ roleCredentials: { accessKeyId: 'ASIASSOCHILD00000001', secretAccessKey: 'sso-secret', sessionToken: 'sso-token', expiration: Date.now() + 3_600_000 } }));
      }, 300);
    });
    await new Promise<void>((resolve) => portal.listen(0, '127.0.0.1', resolve));
    servers.push({ close: () => new Promise<void>((resolve) => portal.close(() => resolve())) });
    const cacheDir = join(dir, `sso-cache-${format}`);
    await mkdir(cacheDir, { recursive: true });
    const options = { ssoStartUrl: 'https://corp.awsapps.com/start', ssoRegion: 'us-east-1', ssoAccountId: '111122223333', ssoRoleName: 'Dev', ssoSession: 'corp' };
    await writeFile(ssoTokenCacheFile(options, cacheDir), JSON.stringify({ accessToken: 'child-token', expiresAt: new Date(Date.now() + 3_600_000).toISOString() }));
    const endpoint = `http://127.0.0.1:${(portal.address() as AddressInfo).port}`;
    const result = await runChild(format, `const c = await fromSso(${JSON.stringify({ ...options, endpoint, tokenCacheDir: cacheDir, env: {} })})();\n${PRINT}`);
    expectPrinted(result, /^ASIASSOCHILD/);
    expect(requests).toHaveLength(1);
  });
});
