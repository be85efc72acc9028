import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { refreshing } from '../../src/index.js';
import { startCredentialServer, type CredentialServer, type CredentialServerOptions } from '../../src/serve/server.js';
import { createFakeClock, mockProvider } from '../../src/testing/index.js';
import { accessKeyId, canary, SecretProbe } from '../helpers/secrets-probe.js';

/**
 * The server in-process against real HTTP requests on loopback: the protocol's JSON, the token
 * check, the Host guard, bad input, `/healthz`, and renewing ahead of the clients' margin.
 */

const TOKEN = canary('CONTAINERAUTH');
const SECRET = canary('SECRETKEY');
const SESSION = canary('SESSIONTOKEN');
const MINUTE = 60_000;

let server: CredentialServer | undefined;
afterEach(async () => {
  await server?.close(100);
  server = undefined;
});

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(url: string, options: { headers?: Record<string, string>; method?: string; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers ?? {}, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Raw bytes on a socket, the reply's status line (or '' when the server closed without one). */
function raw(port: number, text: string, waitMs = 0): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(text);
      if (waitMs) setTimeout(() => undefined, waitMs);
    });
    let data = '';
    socket.on('data', (d) => (data += d.toString()));
    socket.on('close', () => resolve(data.split('\r\n')[0] ?? ''));
    socket.on('error', () => resolve(data.split('\r\n')[0] ?? ''));
  });
}

/** Counts warn lines apart from the info lines the source writes on each new credential. */
function warnCounter(probe: SecretProbe) {
  const counter = { warns: 0, logger: { ...probe.logger, warn: (...args: unknown[]) => ((counter.warns += 1), probe.logger.warn(...args)) } };
  return counter;
}

async function start(overrides: Partial<CredentialServerOptions> & Pick<CredentialServerOptions, 'provider'>, probe?: SecretProbe) {
  server = await startCredentialServer({ token: TOKEN, keepWarm: false, ...(probe ? { logger: probe.logger } : {}), ...overrides });
  return server;
}

const creds = (n: number, expiration: Date) => ({ accessKeyId: accessKeyId('ASIA', n), secretAccessKey: `${SECRET}-${n}`, sessionToken: `${SESSION}-${n}`, expiration, accountId: '123456789012' });

describe('credchain serve: the container-credentials protocol', () => {
  it('answers the right token with the ECS agent JSON, no CORS, no caching; 401 and nothing else otherwise', async () => {
    const probe = new SecretProbe();
    const warns = warnCounter(probe);
    const expiration = new Date(Date.now() + 60 * MINUTE);
    const s = await start({ provider: mockProvider(creds(1, expiration)), logger: warns.logger }, probe);
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/credentials$/);

    const ok = await request(s.url, { headers: { authorization: TOKEN, origin: 'https://evil.example' } });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toEqual({
      AccessKeyId: accessKeyId('ASIA', 1),
      SecretAccessKey: `${SECRET}-1`,
      Token: `${SESSION}-1`,
      Expiration: expiration.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      AccountId: '123456789012',
    });
    expect(ok.headers['cache-control']).toBe('no-store');
    expect(Object.keys(ok.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);

    for (const headers of [{}, { authorization: `${TOKEN}x` }, { authorization: TOKEN.slice(0, -1) }, { authorization: `Bearer ${TOKEN}` }] as Record<string, string>[]) {
      const refused = await request(s.url, { headers });
      expect(refused.status).toBe(401);
      expect(refused.body).toBe('Unauthorized\n');
      probe.text('401 body', refused.body + JSON.stringify(refused.headers));
    }
    expect(warns.warns).toBe(1); // one line for the first failure of the window
    expect(probe.leaks([TOKEN])).toEqual([]);
  });

  it('rate-limits repeated failures (429 with Retry-After, two log lines) while the right token keeps working', async () => {
    const probe = new SecretProbe();
    const warns = warnCounter(probe);
    const s = await start({ provider: mockProvider(creds(1, new Date(Date.now() + 60 * MINUTE))), maxAuthFailures: 3, logger: warns.logger }, probe);
    const statuses: number[] = [];
    // Wrong tokens are canaries too: a near-miss (or another service's token) must not reach the log either.
    for (let i = 0; i < 8; i += 1) statuses.push((await request(s.url, { headers: { authorization: canary('CONTAINERAUTH') } })).status);
    expect(statuses).toEqual([401, 401, 401, 429, 429, 429, 429, 429]);
    const limited = await request(s.url, { headers: { authorization: 'wrong' } });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await request(s.url, { headers: { authorization: TOKEN } })).status).toBe(200);
    expect(warns.warns).toBe(2);
    expect(probe.leaks([TOKEN])).toEqual([]);
  });

  it('refuses a Host header that is not the bound address (DNS rebinding), accepts localhost', async () => {
    const s = await start({ provider: mockProvider(creds(1, new Date(Date.now() + 60 * MINUTE))) });
    for (const host of ['evil.example', `evil.example:${s.port}`, `127.0.0.1:${s.port + 1}`, `127.0.0.2:${s.port}`]) {
      const r = await request(s.url, { headers: { authorization: TOKEN, host } });
      expect(r.status, host).toBe(403);
      expect(r.body).not.toContain('Secret');
    }
    expect((await request(s.url.replace('127.0.0.1', 'localhost'), { headers: { authorization: TOKEN } })).status).toBe(200);
    expect((await request(s.url.replace('/credentials', '/healthz'), { headers: { host: 'rebind.example' } })).status).toBe(403);
  });

  it('bad input gets clear status codes and the server keeps serving', async () => {
    const s = await start({ provider: mockProvider(creds(1, new Date(Date.now() + 60 * MINUTE))), headersTimeoutMs: 500, requestTimeoutMs: 800 });
    const auth = { authorization: TOKEN };
    expect((await request(s.url.replace('/credentials', '/other'), { headers: auth })).status).toBe(404);
    expect((await request(`${s.url}/x`, { headers: auth })).status).toBe(404);
    expect((await request(s.url.replace('/credentials', '/'), { headers: auth })).status).toBe(404);
    expect((await request(s.url, { headers: auth, method: 'POST' })).status).toBe(405);
    expect((await request(s.url, { headers: { ...auth, 'content-length': '10000' }, body: 'x'.repeat(10_000) })).status).toBe(413);
    expect(await raw(s.port, `GET /credentials HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nAuthorization: ${TOKEN}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`)).toBe(
      'HTTP/1.1 413 Payload Too Large',
    );
    // Headers over 8 KB: 431 from the parser.
    expect(await raw(s.port, `GET /credentials HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)).toBe(
      'HTTP/1.1 431 Request Header Fields Too Large',
    );
    // Garbage: 400.
    expect(await raw(s.port, 'NOT HTTP AT ALL\r\n\r\n')).toBe('HTTP/1.1 400 Bad Request');
    // A client that never finishes its headers is cut off (408) after headersTimeoutMs.
    const started = Date.now();
    const slow = await raw(s.port, `GET /credentials HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\n`);
    expect(slow).toBe('HTTP/1.1 408 Request Timeout');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect((await request(s.url, { headers: auth })).status).toBe(200);
  });

  it('GET /healthz needs no token and shows no key material', async () => {
    const probe = new SecretProbe();
    const clock = createFakeClock(Date.now());
    const expiration = new Date(clock.now() + 60 * MINUTE);
    const s = await start({ provider: refreshing(mockProvider(creds(1, expiration), { now: clock.now }), { now: clock.now }), now: clock.now }, probe);
    const health = s.url.replace('/credentials', '/healthz');
    // Nothing resolved yet.
    expect((await request(health)).status).toBe(503);
    await request(s.url, { headers: { authorization: TOKEN } });
    const r = await request(health);
    probe.text('healthz', r.body);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ state: 'fresh', expiration: expiration.toISOString(), failures: 0, renewing: false });
    clock.advance(61 * MINUTE);
    const expired = await request(health);
    expect(expired.status).toBe(503);
    expect(JSON.parse(expired.body).state).toBe('expired');
    expect(probe.leaks([TOKEN, SECRET, SESSION, accessKeyId('ASIA', 1)])).toEqual([]);
  });

  it('will not bind a non-loopback address without allowRemote', async () => {
    await expect(startCredentialServer({ provider: mockProvider(creds(1, new Date())), token: TOKEN, host: '0.0.0.0' })).rejects.toThrow(/allow-remote/);
  });
});

describe('credchain serve: renewing ahead of the clients’ margin', () => {
  it('never hands out credentials with less than the margin left: one renewal first, for all concurrent requests', async () => {
    const clock = createFakeClock(Date.now());
    let n = 0;
    const inner = mockProvider(() => creds(++n, new Date(clock.now() + 60 * MINUTE)), { now: clock.now, delayMs: 20 });
    // advisoryWindowMs/mandatoryWindowMs 0: the library cache alone would serve them to the last second.
    const provider = refreshing(inner, { now: clock.now, advisoryWindowMs: 0, mandatoryWindowMs: 0 });
    const s = await start({ provider, now: clock.now });
    const key = async () => JSON.parse((await request(s.url, { headers: { authorization: TOKEN } })).body).AccessKeyId as string;
    expect(await key()).toBe(accessKeyId('ASIA', 1));
    clock.advance(48 * MINUTE); // 12 min left: more than the 11-minute margin
    expect(await key()).toBe(accessKeyId('ASIA', 1));
    clock.advance(2 * MINUTE); // 10 min left
    const keys = await Promise.all(Array.from({ length: 50 }, key));
    expect(new Set(keys)).toEqual(new Set([accessKeyId('ASIA', 2)]));
    expect(inner.calls).toBe(2);
    expect(s.source.forcedRenewals).toBe(1);
  });

  it('a source that cannot do better is asked once per credential, not on every request', async () => {
    const clock = createFakeClock(Date.now());
    const fixed = creds(7, new Date(clock.now() + 60 * MINUTE));
    const inner = mockProvider(fixed, { now: clock.now });
    const s = await start({ provider: refreshing(inner, { now: clock.now, advisoryWindowMs: 0, mandatoryWindowMs: 0 }), now: clock.now });
    await request(s.url, { headers: { authorization: TOKEN } });
    clock.advance(55 * MINUTE);
    for (let i = 0; i < 5; i += 1) expect((await request(s.url, { headers: { authorization: TOKEN } })).status).toBe(200);
    expect(inner.calls).toBe(2);
    // Inside the margin with nothing better to be had: healthy, but a renewal is due.
    const health = await request(s.url.replace('/credentials', '/healthz'));
    expect([health.status, JSON.parse(health.body).state]).toEqual([200, 'advisory']);
  });

  it('a failing renewal serves the still-valid credentials and backs off; expired ones never: 503', async () => {
    const probe = new SecretProbe();
    const clock = createFakeClock(Date.now());
    const inner = mockProvider([creds(1, new Date(clock.now() + 60 * MINUTE)), new Error('STS is down')], { now: clock.now });
    const s = await start({ provider: refreshing(inner, { now: clock.now, advisoryWindowMs: 0, mandatoryWindowMs: 0 }), now: clock.now }, probe);
    const get = () => request(s.url, { headers: { authorization: TOKEN } });
    await get();
    clock.advance(55 * MINUTE);
    const served = await get();
    expect(served.status).toBe(200);
    expect(JSON.parse(served.body).AccessKeyId).toBe(accessKeyId('ASIA', 1));
    for (let i = 0; i < 5; i += 1) await get(); // inside the backoff: no new attempt
    expect(inner.calls).toBe(2);
    const health = JSON.parse((await request(s.url.replace('/credentials', '/healthz'))).body);
    expect(health.state).toBe('failing');
    clock.advance(6 * MINUTE); // expired, still failing
    const refused = await get();
    expect(refused.status).toBe(503);
    expect(refused.body).toBe('Credentials unavailable\n');
    probe.text('503', refused.body);
    expect(probe.counts.logLines).toBeGreaterThan(0);
    expect(probe.leaks([TOKEN])).toEqual([]);
  });

  it('the margin is at most half the lifetime, so short credentials are served (60 s credentials: renewed with 30 s left)', async () => {
    const clock = createFakeClock(Date.now());
    let n = 0;
    const inner = mockProvider(() => creds(++n, new Date(clock.now() + MINUTE)), { now: clock.now });
    const s = await start({ provider: refreshing(inner, { now: clock.now, advisoryWindowMs: 0, mandatoryWindowMs: 0 }), now: clock.now });
    const key = async () => JSON.parse((await request(s.url, { headers: { authorization: TOKEN } })).body).AccessKeyId as string;
    expect(await key()).toBe(accessKeyId('ASIA', 1));
    clock.advance(29_000);
    expect(await key()).toBe(accessKeyId('ASIA', 1));
    clock.advance(2_000);
    expect(await key()).toBe(accessKeyId('ASIA', 2));
  });
});
