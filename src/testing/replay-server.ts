import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One event of a smithy-rs `http-traffic.json` recording (only the parts we replay are typed). */
export interface RecordedEvent {
  readonly connection_id: number;
  readonly action: {
    readonly Request?: { readonly request: { readonly uri: string; readonly method: string; readonly headers?: Record<string, string[]> } };
    readonly Response?: { readonly response: { readonly Ok?: { readonly status: number; readonly headers?: Record<string, string[]> }; readonly Err?: unknown } };
    readonly Data?: { readonly data: { readonly Utf8?: string; readonly Base64?: string }; readonly direction: 'Request' | 'Response' };
    readonly Eof?: unknown;
  };
}

export interface RecordedTraffic {
  readonly events: readonly RecordedEvent[];
}

export interface ReplayedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Index of the recorded exchange that answered it, or -1 when none matched. */
  readonly exchange: number;
}

export interface ReplayServer {
  /** `http://127.0.0.1:<port>`: use it in place of the recorded host. */
  readonly endpoint: string;
  readonly requests: readonly ReplayedRequest[];
  /** Requests no unused recorded exchange matched (they got a 501). */
  readonly unmatched: readonly ReplayedRequest[];
  /** Recorded exchanges not served yet. */
  readonly remaining: number;
  /** Checked headers that differed from the recording, as `METHOD path: header expected "a", got "b"`. */
  readonly headerMismatches: readonly string[];
  close(): Promise<void>;
}

export interface ReplayServerOptions {
  /** Request headers compared with the recording (as the smithy-rs harness does). @default ['content-type', 'x-aws-ec2-metadata-token'] */
  readonly checkHeaders?: readonly string[];
}

interface Exchange {
  readonly method: string;
  readonly path: string;
  readonly requestHeaders: Record<string, string[]>;
  status?: number;
  responseHeaders: Record<string, string[]>;
  body: Buffer[];
  /** The recording says the connection failed instead of answering. */
  failed: boolean;
  used: boolean;
}

// Framing headers are recomputed for the replayed body.
const DROPPED_RESPONSE_HEADERS = new Set(['content-length', 'connection', 'transfer-encoding', 'keep-alive']);

/** Groups the recording into exchanges, in the order their connections first appear. */
function exchangesOf(events: readonly RecordedEvent[]): Exchange[] {
  const byConnection = new Map<number, Exchange>();
  for (const { connection_id: id, action } of events) {
    if (action.Request) {
      const url = new URL(action.Request.request.uri);
      byConnection.set(id, {
        method: action.Request.request.method.toUpperCase(),
        path: url.pathname + url.search,
        requestHeaders: action.Request.request.headers ?? {},
        responseHeaders: {},
        body: [],
        failed: false,
        used: false,
      });
      continue;
    }
    const exchange = byConnection.get(id);
    if (!exchange) continue;
    if (action.Response) {
      const ok = action.Response.response.Ok;
      if (ok) {
        exchange.status = ok.status;
        exchange.responseHeaders = ok.headers ?? {};
      } else exchange.failed = true;
    } else if (action.Data && action.Data.direction === 'Response') {
      const { Utf8, Base64 } = action.Data.data;
      exchange.body.push(Utf8 !== undefined ? Buffer.from(Utf8, 'utf8') : Buffer.from(Base64 ?? '', 'base64'));
    }
  }
  return [...byConnection.values()];
}

/**
 * Serves a recorded HTTP conversation from a loopback port: each request gets the response of the
 * first unused recorded exchange with the same method and path, so repeated calls (retries) get
 * the recorded answers in order. Requests nothing matches get 501 and are listed in `unmatched`.
 */
export async function startReplayServer(
  traffic: RecordedTraffic | readonly RecordedEvent[],
  options: ReplayServerOptions = {},
): Promise<ReplayServer> {
  const exchanges = exchangesOf('events' in traffic ? traffic.events : traffic);
  const checkHeaders = options.checkHeaders ?? ['content-type', 'x-aws-ec2-metadata-token'];
  const requests: ReplayedRequest[] = [];
  const unmatched: ReplayedRequest[] = [];
  const headerMismatches: string[] = [];
  const sockets = new Set<Socket>();

  const server = http.createServer((req, res) => {
    const method = (req.method ?? 'GET').toUpperCase();
    const path = req.url ?? '/';
    const index = exchanges.findIndex((e) => !e.used && e.method === method && e.path === path);
    const logged: ReplayedRequest = { method, path, headers: { ...req.headers }, exchange: index };
    requests.push(logged);
    req.resume();
    req.on('end', () => {
      const exchange = exchanges[index];
      if (!exchange) {
        unmatched.push(logged);
        res.writeHead(501, { 'content-type': 'text/plain' });
        res.end(`replay server: no recorded response left for ${method} ${path}`);
        return;
      }
      exchange.used = true;
      for (const name of checkHeaders) {
        const expected = exchange.requestHeaders[name]?.join(', ');
        const got = req.headers[name];
        const actual = Array.isArray(got) ? got.join(', ') : got;
        if (expected !== actual) headerMismatches.push(`${method} ${path}: ${name} expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
      }
      if (exchange.failed || exchange.status === undefined) {
        req.socket.destroy();
        return;
      }
      const headers: Record<string, string[]> = {};
      for (const [name, values] of Object.entries(exchange.responseHeaders)) {
        if (!DROPPED_RESPONSE_HEADERS.has(name.toLowerCase())) headers[name] = values;
      }
      const body = Buffer.concat(exchange.body);
      headers['content-length'] = [String(body.length)];
      res.writeHead(exchange.status, headers);
      res.end(body);
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    unmatched,
    headerMismatches,
    get remaining() {
      return exchanges.filter((e) => !e.used).length;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
