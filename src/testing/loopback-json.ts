import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What a handler of a local JSON service answers. */
export interface JsonAnswer {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
}

/** A handler's view of one request: method, path, headers and the whole body text. */
export interface JsonRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export interface LoopbackJsonServer {
  readonly endpoint: string;
  readonly port: number;
  close(): Promise<void>;
}

/** An HTTP server on a random loopback port whose handler answers JSON (internal to the fakes). */
export async function startLoopbackJson(handle: (req: JsonRequest) => JsonAnswer | Promise<JsonAnswer>): Promise<LoopbackJsonServer> {
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://loopback');
      Promise.resolve()
        .then(() => handle({ method: req.method ?? 'GET', path: url.pathname, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }))
        .then(
          (answer) => {
            res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
            res.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
          },
          () => {
            res.writeHead(500, { 'content-type': 'application/json' });
            res.end('{"error":"server_error"}');
          },
        );
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
