import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { CredentialsError } from '../../src/errors.js';
import { HttpRequestError } from '../../src/http/request.js';
import { StsClient } from '../../src/sts/client.js';
import { StsError } from '../../src/sts/errors.js';
import { countingAgent } from '../helpers/counting-agent.js';
import { USER, captureLogger, clientFor, server } from '../sts/helpers.js';

// Tests added from the surviving mutants of `npm run mutate` (bench/MUTATION.md).
describe('sts/client (mutation)', () => {
  it('prints where it sends and with which key, masked; nothing else', () => {
    const client = new StsClient({
      region: 'eu-west-1',
      endpoint: 'http://user:pass@127.0.0.1:9/',
      credentials: { accessKeyId: USER.accessKeyId, secretAccessKey: USER.secretAccessKey },
      stub: { getCallerIdentity: { account: '1', arn: 'a', userId: 'u' } } as never,
    });
    expect(client.toJSON()).toEqual({ region: 'eu-west-1', endpoint: 'http://****@127.0.0.1:9/', credentials: '****MPLE', stub: ['getCallerIdentity'] });
    expect(Object.keys(client.toJSON())).toEqual(['region', 'endpoint', 'credentials', 'stub']);
    expect(inspect(client)).toBe(inspect({ StsClient: client.toJSON() }));
    expect(inspect(client)).not.toContain(USER.secretAccessKey);
    expect(new StsClient({ credentials: async () => ({ accessKeyId: 'a', secretAccessKey: 'b' }), stub: true }).toJSON()).toEqual({
      credentials: '(provider)',
      stub: true,
    });
    expect(new StsClient().toJSON()).toEqual({});
    expect(Object.keys(new StsClient({ region: undefined }).toJSON())).toEqual([]);
  });

  it('errors of its own name the sts provider', async () => {
    const client = new StsClient({ stub: true });
    const unknown = (await client.send('nope' as never, {} as never).catch((e: unknown) => e)) as CredentialsError;
    expect(unknown.providerName).toBe('sts');
    for (const bad of [0, -1]) {
      let error: CredentialsError | undefined;
      try {
        new StsClient({ timeout: bad });
      } catch (e) {
        error = e as CredentialsError;
      }
      expect(error?.providerName).toBe('sts');
      const perCall = (await client.getCallerIdentity({}, { timeout: bad }).catch((e: unknown) => e)) as CredentialsError;
      expect(perCall.providerName).toBe('sts');
    }
    const unsigned = (await new StsClient({ endpoint: 'http://127.0.0.1:9', region: 'us-east-1', env: {} })
      .getCallerIdentity()
      .catch((e: unknown) => e)) as CredentialsError;
    expect(unsigned.providerName).toBe('sts');
  });

  it('a failing credentials provider is named, with its cause', async () => {
    const s = await server();
    const cause = new Error('no keys here');
    const client = clientFor(s, { credentials: async () => Promise.reject(cause) });
    const error = (await client.getCallerIdentity().catch((e: unknown) => e)) as CredentialsError;
    expect(error).toBeInstanceOf(CredentialsError);
    expect(error.message).toBe('StsClient: could not get credentials to sign GetCallerIdentity: no keys here');
    expect(error.providerName).toBe('sts');
    expect(error.cause).toBe(cause);
    expect(s.requests).toHaveLength(0);
  });

  it('sends a form body; logs "-" for a missing status and request id, with a real latency', async () => {
    const s = await server();
    const { lines, logger } = captureLogger();
    await clientFor(s, { logger }).getCallerIdentity();
    expect(s.requests[0]!.headers['content-type']).toBe('application/x-www-form-urlencoded; charset=utf-8');
    s.inject({ kind: 'reset' });
    const started = performance.now();
    await clientFor(s, { logger, maxRetries: 0 }).getCallerIdentity().catch(() => undefined);
    const elapsedMs = performance.now() - started;
    const last = lines.filter((l) => l.startsWith('sts: GetCallerIdentity region=')).at(-1)!;
    expect(last).toMatch(/ status=- requestId=- latencyMs=(\d+) error=NetworkingError$/);
    expect(Number(/latencyMs=(\d+)/.exec(last)![1])).toBeLessThanOrEqual(Math.ceil(elapsedMs));
  });

  it('an abort: a transport abort keeps its own error; an abort before sending says the call was aborted', async () => {
    const s = await server();
    s.inject({ kind: 'hang' });
    const controller = new AbortController();
    const pending = clientFor(s, { timeout: 10_000 }).getCallerIdentity({}, { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    const error = (await pending.catch((e: unknown) => e)) as StsError;
    expect(error).toBeInstanceOf(StsError);
    expect(error.code).toBe('RequestAborted');
    expect(error.cause).toBeInstanceOf(HttpRequestError);
    expect(error.serviceMessage).not.toBe('the call was aborted');

    const before = s.requests.length;
    const clientSignal = AbortSignal.abort();
    const early = (await clientFor(s, { signal: clientSignal }).getCallerIdentity().catch((e: unknown) => e)) as StsError;
    expect(early).toBeInstanceOf(StsError);
    expect(early.code).toBe('RequestAborted');
    expect(early.serviceMessage).toBe('the call was aborted');
    expect(early.operation).toBe('GetCallerIdentity');
    expect(s.requests.length).toBe(before);
  });

  it('a failed endpoint resolution is not cached: fixing the environment takes effect', async () => {
    const s = await server();
    const env: Record<string, string | undefined> = { AWS_ENDPOINT_URL_STS: 'not a url' };
    const client = new StsClient({ region: 'us-west-2', env });
    await expect(client.resolveEndpoint()).rejects.toThrow();
    env.AWS_ENDPOINT_URL_STS = s.url;
    expect(String((await client.resolveEndpoint()).url)).toContain(s.url.replace(/\/$/, ''));
  });
});

// A server answering whatever a test says, to reach what the STS-like server never sends.
const rawServers: Server[] = [];
afterEach(async () => {
  await Promise.all(rawServers.splice(0).map((srv) => new Promise((resolve) => srv.close(resolve))));
});

async function rawServer(handle: (res: ServerResponse, req: IncomingMessage, n: number) => void): Promise<{ url: string; requests: () => number }> {
  let n = 0;
  const srv = createServer((req, res) => {
    req.resume();
    req.on('end', () => handle(res, req, n++));
  });
  rawServers.push(srv);
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}/`, requests: () => n };
}

const identityXml = (requestId?: string) =>
  '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>' +
  '<Arn>arn:aws:iam::123456789012:user/raw</Arn><UserId>AIDARAW</UserId><Account>123456789012</Account></GetCallerIdentityResult>' +
  `<ResponseMetadata>${requestId !== undefined ? `<RequestId>${requestId}</RequestId>` : ''}</ResponseMetadata></GetCallerIdentityResponse>`;
const errorXml = (code: string, message = 'no', requestId?: string) =>
  `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error>${requestId !== undefined ? `<RequestId>${requestId}</RequestId>` : ''}</ErrorResponse>`;

function answer(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/xml', ...headers });
  res.end(body);
}

const rawClient = (url: string, options: ConstructorParameters<typeof StsClient>[0] = {}) =>
  new StsClient({
    endpoint: url,
    region: 'us-west-2',
    credentials: { accessKeyId: USER.accessKeyId, secretAccessKey: USER.secretAccessKey },
    baseDelay: 0,
    maxRetries: 0,
    env: {},
    ...options,
  });

describe('sts/client responses (mutation)', () => {
  it('the request id of the document wins over the header; the header stands in when the document has none', async () => {
    const bodies = [
      [403, errorXml('AccessDenied', 'no', 'xmlid1')],
      [403, errorXml('AccessDenied', 'no')],
      [200, identityXml('xmlid2')],
      [200, identityXml()],
    ] as const;
    const s = await rawServer((res, _req, n) => answer(res, bodies[n]![0], bodies[n]![1], { 'x-amzn-requestid': 'hdrid' }));
    const client = rawClient(s.url);
    const withBoth = (await client.getCallerIdentity().catch((e: unknown) => e)) as StsError;
    expect(withBoth.requestId).toBe('xmlid1');
    const headerOnly = (await client.getCallerIdentity().catch((e: unknown) => e)) as StsError;
    expect(headerOnly.requestId).toBe('hdrid');
    expect((await client.getCallerIdentity()).requestId).toBe('xmlid2');
    expect((await client.getCallerIdentity()).requestId).toBe('hdrid');
  });

  it('a success without any request id has an empty one', async () => {
    const s = await rawServer((res) => answer(res, 200, identityXml()));
    expect((await rawClient(s.url).getCallerIdentity()).requestId).toBe('');
  });

  it('a success document with a non-2xx status is an unreadable response', async () => {
    const statuses = [300, 500, 299];
    const s = await rawServer((res, _req, n) => answer(res, statuses[n]!, identityXml('rid')));
    const client = rawClient(s.url);
    for (const status of [300, 500]) {
      const error = (await client.getCallerIdentity().catch((e: unknown) => e)) as StsError;
      expect(error).toBeInstanceOf(StsError);
      expect(error.code).toBe('InvalidResponse');
      expect(error.serviceMessage).toBe(`unreadable response: HTTP ${status} came with a success document`);
      expect(error.statusCode).toBe(status);
      expect(error.requestId).toBe('rid');
    }
    expect((await client.getCallerIdentity()).account).toBe('123456789012');
  });

  it('a body over the size limit is an unreadable response, not retried', async () => {
    const s = await rawServer((res) => answer(res, 200, `<x>${'a'.repeat(1024 * 1024)}</x>`));
    const error = (await rawClient(s.url, { maxRetries: 3 }).getCallerIdentity().catch((e: unknown) => e)) as StsError;
    expect(error.code).toBe('InvalidResponse');
    expect(error.serviceMessage).toMatch(/^unreadable response: POST .* with a body over 1048576 bytes$/);
    expect(s.requests()).toBe(1);
  });

  it('redacts a sent secret of four characters echoed back by the server', async () => {
    const s = await rawServer((res) => answer(res, 400, errorXml('InvalidIdentityToken', 'token Zq9x is bad')));
    const error = (await rawClient(s.url)
      .assumeRoleWithWebIdentity({ roleArn: 'arn:aws:iam::123456789012:role/r', roleSessionName: 'raw', webIdentityToken: 'Zq9x' })
      .catch((e: unknown) => e)) as StsError;
    expect(error.serviceMessage).toBe('token **** is bad');
  });

  it('sends through the agent it was given', async () => {
    const s = await rawServer((res) => answer(res, 200, identityXml()));
    const agent = countingAgent();
    await rawClient(s.url, { agent }).getCallerIdentity();
    expect(agent.connections).toBe(1);
    agent.destroy();
  });

  it('an abort from the client signal, from the call signal, or from either when both are given', async () => {
    const s = await rawServer(() => undefined); // never answers
    const abortAfter = (controller: AbortController) => setTimeout(() => controller.abort(), 50);
    const clientLevel = new AbortController();
    abortAfter(clientLevel);
    const a = (await rawClient(s.url, { signal: clientLevel.signal, timeout: 10_000 }).getCallerIdentity().catch((e: unknown) => e)) as StsError;
    expect(a.code).toBe('RequestAborted');
    for (const which of ['client', 'call'] as const) {
      const client = new AbortController();
      const call = new AbortController();
      abortAfter(which === 'client' ? client : call);
      const error = (await rawClient(s.url, { signal: client.signal, timeout: 10_000 })
        .getCallerIdentity({}, { signal: call.signal })
        .catch((e: unknown) => e)) as StsError;
      expect(error.code, which).toBe('RequestAborted');
    }
  });

  it('an answer that arrived before the abort is reported as it is', async () => {
    const s = await rawServer((res) => answer(res, 403, errorXml('AccessDenied', 'not you')));
    const controller = new AbortController();
    const logger = { debug: (line: string) => line.includes('error=AccessDenied') && controller.abort(), info() {}, warn() {}, error() {} };
    const error = (await rawClient(s.url, { logger, signal: controller.signal }).getCallerIdentity().catch((e: unknown) => e)) as StsError;
    expect(controller.signal.aborted).toBe(true);
    expect(error.code).toBe('AccessDenied');
  });
});

describe('sts/client clock skew (mutation)', () => {
  const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
  const skewed = (date: string | undefined) =>
    rawServer((res, _req, n) => {
      res.sendDate = false;
      const headers: Record<string, string> = date !== undefined ? { date } : {};
      if (n === 0) answer(res, 403, errorXml('SignatureDoesNotMatch', 'Signature expired'), headers);
      else answer(res, 200, identityXml('ok'), headers);
    });

  it('without a usable Date header nothing is adopted and nothing resent', async () => {
    for (const date of [undefined, 'not a date']) {
      const s = await skewed(date);
      const error = (await rawClient(s.url, { now: () => NOW }).getCallerIdentity().catch((e: unknown) => e)) as StsError;
      expect(error.code, String(date)).toBe('SignatureDoesNotMatch');
      expect(s.requests()).toBe(1);
    }
  });

  it('adopts the server clock from a minute off, not below', async () => {
    const at = (ms: number) => new Date(NOW + ms).toUTCString();
    const below = await skewed(at(59_000));
    expect(await rawClient(below.url, { now: () => NOW }).getCallerIdentity().catch((e: StsError) => e.code)).toBe('SignatureDoesNotMatch');
    expect(below.requests()).toBe(1);
    const exact = await skewed(at(60_000));
    const client = rawClient(exact.url, { now: () => NOW });
    expect((await client.getCallerIdentity()).requestId).toBe('ok');
    expect(exact.requests()).toBe(2);
    expect(client.toJSON().clockSkewMs).toBe(60_000);
  });

  it('a skew error while the adopted clock already matches the server is not resent again', async () => {
    const date = new Date(NOW + 600_000).toUTCString();
    const s = await rawServer((res, _req, n) => {
      res.sendDate = false;
      if (n === 1) answer(res, 200, identityXml('ok'), { date });
      else answer(res, 403, errorXml('SignatureDoesNotMatch', 'Signature expired'), { date });
    });
    const client = rawClient(s.url, { now: () => NOW });
    await client.getCallerIdentity();
    expect(s.requests()).toBe(2);
    expect(await client.getCallerIdentity().catch((e: StsError) => e.code)).toBe('SignatureDoesNotMatch');
    expect(s.requests()).toBe(3);
  });
});
