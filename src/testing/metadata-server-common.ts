import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Clock } from '../clock.js';

/** One request as a local metadata server saw it. */
export interface MetadataLoggedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The status answered, or `'hang'` when a fault kept the request waiting forever. */
  status: number | 'hang';
}

/** A misbehaviour to inject: the next `times` requests that match answer this way instead. */
export interface MetadataFault {
  /** Exact path (`/latest/api/token`) or a pattern; every path when omitted. */
  readonly path?: string | RegExp;
  readonly method?: string;
  /** How many matching requests it affects; `Infinity` for all of them. @default 1 */
  readonly times?: number;
  /** Answer with this status (and `body`, default empty). */
  readonly status?: number;
  readonly body?: string;
  /** Wait this long first; without another fault field the normal answer follows. */
  readonly delayMs?: number;
  /** Never answer (the client's timeout must fire). */
  readonly hang?: boolean;
  /** Answer 200 with a body that is not JSON. */
  readonly garbage?: boolean;
  /** Answer 200 with a body of this many bytes. */
  readonly oversizedBytes?: number;
}

export interface MetadataAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Never answer (`status` is ignored): the client's timeout must fire. */
  hang?: boolean;
}

/** Fake credentials a local server hands out. */
export interface FakeCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly accountId?: string;
}

/** What the local metadata servers have in common: loopback, request log, counts, faults, close. */
export interface MetadataServerBase {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly port: number;
  readonly requests: readonly MetadataLoggedRequest[];
  /** Requests received, optionally only those with this method and/or path. */
  count(filter?: { method?: string; path?: string }): number;
  /** TCP connections accepted since start, and those still open: a leak shows as a growing number. */
  readonly connections: number;
  readonly openConnections: number;
  /** Credential documents served so far. */
  readonly credentialsServed: number;
  addFault(fault: MetadataFault): void;
  clearFaults(): void;
  /** Forgets the request log and counters (not the faults). */
  resetLog(): void;
  close(): Promise<void>;
}

interface PendingFault {
  fault: MetadataFault;
  left: number;
}

/**
 * Starts an HTTP server on a random loopback port that logs every request, applies injected faults,
 * then lets `handle` answer. Used by the IMDS and container servers.
 */
export async function startMetadataServer(
  handle: (req: http.IncomingMessage, path: string, log: MetadataLoggedRequest) => MetadataAnswer,
  port = 0,
): Promise<MetadataServerBase & { countCredentialsServed(): void }> {
  const requests: MetadataLoggedRequest[] = [];
  const faults: PendingFault[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  let credentialsServed = 0;

  const send = (res: http.ServerResponse, log: MetadataLoggedRequest, answer: MetadataAnswer) => {
    log.status = answer.status;
    res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
    res.end(answer.body ?? '');
  };

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const log: MetadataLoggedRequest = { method: req.method ?? 'GET', path, headers: { ...req.headers }, status: 0 };
    requests.push(log);
    // Drain the request body (there should be none) before answering.
    req.resume();
    req.on('end', () => {
      const pending = faults.find(
        (f) =>
          f.left > 0 &&
          (f.fault.method === undefined || f.fault.method === log.method) &&
          (f.fault.path === undefined || (typeof f.fault.path === 'string' ? f.fault.path === path : f.fault.path.test(path))),
      );
      if (pending) pending.left -= 1;
      const fault = pending?.fault;
      const answer = (): void => {
        if (fault?.hang) {
          log.status = 'hang';
          return;
        }
        if (fault?.status !== undefined) return send(res, log, { status: fault.status, body: fault.body ?? '' });
        if (fault?.garbage) return send(res, log, { status: 200, body: '<html>{"Code": "Success", oops' });
        if (fault?.oversizedBytes !== undefined) return send(res, log, { status: 200, body: 'x'.repeat(fault.oversizedBytes) });
        const handled = handle(req, path, log);
        if (handled.hang) {
          log.status = 'hang';
          return;
        }
        send(res, log, handled);
      };
      if (fault?.delayMs) setTimeout(answer, fault.delayMs);
      else answer();
    });
  });
  server.on('connection', (socket: Socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const boundPort = (server.address() as AddressInfo).port;

  return {
    endpoint: `http://127.0.0.1:${boundPort}`,
    port: boundPort,
    requests,
    count: (filter = {}) =>
      requests.filter((r) => (filter.method === undefined || r.method === filter.method) && (filter.path === undefined || r.path === filter.path))
        .length,
    get connections() {
      return connections;
    },
    get openConnections() {
      return sockets.size;
    },
    get credentialsServed() {
      return credentialsServed;
    },
    countCredentialsServed: () => {
      credentialsServed += 1;
    },
    addFault: (fault) => faults.push({ fault, left: fault.times ?? 1 }),
    clearFaults: () => {
      faults.length = 0;
    },
    resetLog: () => {
      requests.length = 0;
      connections = 0;
      credentialsServed = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The JSON document IMDS and the container endpoints serve, as AWS formats it. */
export function credentialsDocument(credentials: FakeCredentials, lifetimeSeconds: number, now: Clock): string {
  const at = now();
  const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return JSON.stringify(
    {
      Code: 'Success',
      LastUpdated: iso(at),
      Type: 'AWS-HMAC',
      AccessKeyId: credentials.accessKeyId,
      SecretAccessKey: credentials.secretAccessKey,
      Token: credentials.sessionToken,
      Expiration: iso(at + lifetimeSeconds * 1000),
      ...(credentials.accountId !== undefined ? { AccountId: credentials.accountId } : {}),
    },
    null,
    2,
  );
}

/** Numbered fake credentials, so a test can tell a renewal's answer from the previous one. */
export function numberedCredentials(prefix: string, n: number): FakeCredentials {
  const id = String(n).padStart(8, '0');
  return {
    accessKeyId: `ASIA${prefix}${id}`,
    secretAccessKey: `fake-secret-${prefix.toLowerCase()}-${id}`,
    sessionToken: `fake-session-token-${prefix.toLowerCase()}-${id}`,
  };
}

/** Adds methods and getters to a server object (getters stay live, unlike with Object.assign). */
export function withExtras<B extends object, E extends object>(base: B, extras: E): B & E {
  return Object.defineProperties(base, Object.getOwnPropertyDescriptors(extras)) as B & E;
}
