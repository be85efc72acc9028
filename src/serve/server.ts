import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP, type AddressInfo, type Socket } from 'node:net';
import type { Clock } from '../clock.js';
import type { CredentialProvider, Credentials } from '../credentials.js';
import { messageOf } from '../errors.js';
import { toFullLogger, type Logger } from '../logger.js';
import type { RefreshingStatus } from '../refreshing.js';
import { servedSource, type ServedSource } from './source.js';
import { tokenChecker } from './token.js';

export interface CredentialServerOptions {
  /** What to serve; a `refreshing` provider (its `invalidate()` lets the server renew ahead of the clients' margin). */
  readonly provider: CredentialProvider & { invalidate?(): void; status?(): RefreshingStatus };
  /** The Authorization header value clients must send (from the token file). */
  readonly token: string;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** @default 0 (a random free port) */
  readonly port?: number;
  /** Needed to bind anything but a loopback address. @default false */
  readonly allowRemote?: boolean;
  /** The credentials path. @default '/credentials' */
  readonly path?: string;
  /** Least time left on served credentials (see `servedSource`). @default 11 minutes */
  readonly minRemainingMs?: number;
  /** The margin's cap as a share of the credentials' lifetime. @default 0.5 */
  readonly minRemainingFraction?: number;
  /** Expiration given to credentials that have none (long-term keys), so clients come back. @default 3_600_000 */
  readonly staticExpirationMs?: number;
  /** Failed token checks from one address within `authFailureWindowMs` before answers turn to 429. @default 10 */
  readonly maxAuthFailures?: number;
  /** @default 60_000 */
  readonly authFailureWindowMs?: number;
  /** Time for a client to send its request headers. @default 5_000 */
  readonly headersTimeoutMs?: number;
  /** Time for the whole request. @default 10_000 */
  readonly requestTimeoutMs?: number;
  /** Renews on a timer ahead of the margin. @default true */
  readonly keepWarm?: boolean;
  readonly logger?: Logger;
  readonly now?: Clock;
}

export interface CredentialServer {
  /** `http://127.0.0.1:{port}/credentials`: the value of AWS_CONTAINER_CREDENTIALS_FULL_URI. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly source: ServedSource;
  /** Requests answered, by status code. */
  readonly counts: Readonly<Record<number, number>>;
  /** Stops listening, lets requests under way finish (up to `graceMs`), closes idle connections. */
  close(graceMs?: number): Promise<void>;
}

const MAX_HEADER_BYTES = 8 * 1024;
const LOOPBACK_NAMES = new Set(['localhost', '::1', '[::1]']);

/** True for 127.0.0.0/8, ::1 and `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  return LOOPBACK_NAMES.has(h) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** The JSON the ECS agent returns (Token "" for long-term keys, which have none). */
function containerDocument(c: Credentials, now: number, staticExpirationMs: number): string {
  return JSON.stringify({
    AccessKeyId: c.accessKeyId,
    SecretAccessKey: c.secretAccessKey,
    Token: c.sessionToken ?? '',
    Expiration: (c.expiration ?? new Date(now + staticExpirationMs)).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    ...(c.accountId !== undefined ? { AccountId: c.accountId } : {}),
  });
}

/**
 * Starts a credentials endpoint speaking the container-credentials protocol
 * (`AWS_CONTAINER_CREDENTIALS_FULL_URI` + `AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE]`) for every AWS
 * SDK and the AWS CLI, plus `GET /healthz`. Loopback only unless `allowRemote`; the Host header must
 * name the bound address (DNS-rebinding guard); no redirects, no CORS; the token is compared in
 * constant time and never logged.
 */
export async function startCredentialServer(options: CredentialServerOptions): Promise<CredentialServer> {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopbackHost(host) && !options.allowRemote) {
    throw new Error(`serve: --host ${host} is not a loopback address; add --allow-remote to bind it anyway`);
  }
  const now: Clock = options.now ?? Date.now;
  const log = toFullLogger(options.logger);
  const credentialsPath = options.path ?? '/credentials';
  const staticExpirationMs = options.staticExpirationMs ?? 3_600_000;
  const maxAuthFailures = options.maxAuthFailures ?? 10;
  const windowMs = options.authFailureWindowMs ?? 60_000;
  const check = tokenChecker(options.token);
  const source = servedSource({
    provider: options.provider,
    ...(options.minRemainingMs !== undefined ? { minRemainingMs: options.minRemainingMs } : {}),
    ...(options.minRemainingFraction !== undefined ? { minRemainingFraction: options.minRemainingFraction } : {}),
    ...(options.keepWarm !== undefined ? { keepWarm: options.keepWarm } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    now,
  });
  const counts: Record<number, number> = {};
  /** Failed token checks per remote address in the current window. */
  const failuresByAddress = new Map<string, { windowStart: number; count: number }>();
  let allowedHosts = new Set<string>();

  const send = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
    counts[status] = (counts[status] ?? 0) + 1;
    res.writeHead(status, {
      'content-type': status === 200 ? 'application/json' : 'text/plain; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'content-length': String(Buffer.byteLength(body)),
      ...headers,
    });
    res.end(body);
  };

  /** Counts a failed token check; true when the address is over the limit (answer 429). */
  const authFailed = (address: string, reason: string): { limited: boolean; retryAfterS: number } => {
    const t = now();
    let entry = failuresByAddress.get(address);
    if (!entry || t - entry.windowStart >= windowMs) {
      if (failuresByAddress.size > 1000) for (const [k, v] of failuresByAddress) if (t - v.windowStart >= windowMs) failuresByAddress.delete(k);
      entry = { windowStart: t, count: 0 };
      failuresByAddress.set(address, entry);
    }
    entry.count += 1;
    const retryAfterS = Math.max(1, Math.ceil((entry.windowStart + windowMs - t) / 1000));
    // One line for the first failure of a window and one when the limit is reached: an attacker cannot flood the log.
    if (entry.count === 1) log.warn(`serve: refused a credentials request from ${address}: ${reason}`);
    if (entry.count === maxAuthFailures + 1) {
      log.warn(`serve: ${entry.count} refused credentials requests from ${address} within ${Math.round(windowMs / 1000)} s; answering 429 to its failures for ${retryAfterS} s`);
    }
    return { limited: entry.count > maxAuthFailures, retryAfterS };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const hostHeader = (req.headers.host ?? '').toLowerCase();
    if (!allowedHosts.has(hostHeader)) {
      // DNS rebinding: a page on another name resolving to our address. Nothing else is said.
      send(res, 403, 'Host not allowed\n', { connection: 'close' });
      return;
    }
    const length = req.headers['content-length'];
    if ((length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined) {
      send(res, 413, 'Request body not accepted\n', { connection: 'close' });
      return;
    }
    if (req.method !== 'GET') {
      send(res, 405, 'Method not allowed\n', { allow: 'GET' });
      return;
    }
    const path = (req.url ?? '').split('?')[0];
    if (path === '/healthz') {
      const h = source.health();
      const ok = h.state === 'fresh' || h.state === 'advisory' || h.state === 'failing';
      counts[ok ? 200 : 503] = (counts[ok ? 200 : 503] ?? 0) + 1;
      const body = JSON.stringify({ state: h.state, ...(h.expiration ? { expiration: h.expiration.toISOString() } : {}), failures: h.failures, renewing: h.renewing });
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': String(Buffer.byteLength(body)) });
      res.end(body);
      return;
    }
    if (path !== credentialsPath) {
      send(res, 404, 'Not found\n');
      return;
    }
    const presented = req.headers.authorization;
    if (!check(presented)) {
      const address = req.socket.remoteAddress ?? 'unknown';
      const { limited, retryAfterS } = authFailed(address, presented === undefined ? 'no Authorization header' : 'wrong token');
      if (limited) send(res, 429, 'Too many failed attempts\n', { 'retry-after': String(retryAfterS) });
      else send(res, 401, 'Unauthorized\n');
      return;
    }
    let credentials: Credentials;
    try {
      credentials = await source.get();
    } catch {
      // Logged by the source; the client learns only that none are available.
      send(res, 503, 'Credentials unavailable\n', { 'retry-after': '5' });
      return;
    }
    const body = containerDocument(credentials, now(), staticExpirationMs);
    counts[200] = (counts[200] ?? 0) + 1;
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': String(Buffer.byteLength(body)) });
    res.end(body);
  };

  const server = http.createServer(
    {
      maxHeaderSize: MAX_HEADER_BYTES,
      headersTimeout: options.headersTimeoutMs ?? 5_000,
      requestTimeout: options.requestTimeoutMs ?? 10_000,
      keepAliveTimeout: 5_000,
      // How often the two timeouts above are checked (Node's default is 30 s).
      connectionsCheckingInterval: Math.min(1_000, options.headersTimeoutMs ?? 1_000),
    },
    (req, res) => {
      handle(req, res).catch((error: unknown) => {
        log.error(`serve: request failed: ${messageOf(error)}`);
        if (!res.headersSent) send(res, 500, 'Internal error\n');
        else res.destroy();
      });
    },
  );
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    // Oversized headers, malformed requests, timeouts: a status line if the socket still takes one.
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    counts[status] = (counts[status] ?? 0) + 1;
    if (socket.writable && !(error.code === 'ECONNRESET')) {
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    } else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = isIP(address.address) === 6 ? `[${address.address}]` : address.address;
  allowedHosts = new Set([`${urlHost}:${address.port}`]);
  if (address.port === 80) allowedHosts.add(urlHost);
  if (isLoopbackHost(address.address)) allowedHosts.add(`localhost:${address.port}`);
  if (host.toLowerCase() !== address.address) allowedHosts.add(`${host.toLowerCase()}:${address.port}`);
  if (!isLoopbackHost(address.address)) {
    log.warn(
      `serve: listening on ${urlHost}:${address.port}, which is not loopback (--allow-remote): the token and the credentials cross the network in plain HTTP; the AWS SDKs accept plain HTTP only to loopback and the ECS/EKS link-local addresses`,
    );
  }

  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${address.port}${credentialsPath}`,
    host: address.address,
    port: address.port,
    source,
    counts,
    close(graceMs = 5_000) {
      closing ??= new Promise<void>((resolve) => {
        source.stop();
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
