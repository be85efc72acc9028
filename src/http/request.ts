import type http from 'node:http';

export interface HttpRequest {
  url: string | URL;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Whole-request deadline: connect, send, and read the body. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Bodies larger than this fail with `kind: 'too-large'` instead of filling memory. */
  maxBodyBytes?: number;
  /** Defaults to a process-wide keep-alive agent per protocol. */
  agent?: http.Agent;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Why a request produced no response: the caller decides what each kind means (not-found, retry, fail). */
export type HttpFailureKind = 'timeout' | 'network' | 'too-large' | 'aborted';

export class HttpRequestError extends Error {
  override name = 'HttpRequestError';
  constructor(
    message: string,
    readonly kind: HttpFailureKind,
    /** The system error code for `network` failures, e.g. `ECONNREFUSED`. */
    readonly code?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const DEFAULT_MAX_BODY = 1024 * 1024;

interface Transport {
  module: typeof import('node:http') | typeof import('node:https');
  agent: http.Agent;
}
const transports = new Map<string, Promise<Transport>>();

/**
 * node:http and node:https (with TLS) load on first use, not at import: importing the package root
 * stays cheap, and a process that never leaves loopback never loads TLS. One keep-alive agent per
 * protocol is shared by every client in the process.
 */
function transportFor(url: URL): Promise<Transport> {
  const key = url.protocol === 'https:' ? 'https' : 'http';
  let transport = transports.get(key);
  if (!transport) {
    transport = (key === 'https' ? import('node:https') : import('node:http')).then((module) => ({
      module,
      agent: new module.Agent({ keepAlive: true, maxSockets: 50 }),
    }));
    transports.set(key, transport);
  }
  return transport;
}

/** One HTTP exchange with a deadline, an abort signal and a body cap. Never throws a parser's stack. */
export async function httpRequest(req: HttpRequest): Promise<HttpResponse> {
  const url = typeof req.url === 'string' ? new URL(req.url) : req.url;
  const method = req.method ?? 'GET';
  // Printed in every error: the origin never holds user-info (`user:pass@`) and the query is left out.
  const where = `${method} ${url.origin}${url.pathname}`;
  const maxBody = req.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const transport = await transportFor(url);

  return new Promise<HttpResponse>((resolve, reject) => {
    if (req.signal?.aborted) {
      reject(new HttpRequestError(`${where} aborted before it was sent`, 'aborted'));
      return;
    }
    let settled = false;
    const finish = (error: HttpRequestError | undefined, response?: HttpResponse) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
      if (error) {
        request.destroy();
        reject(error);
      } else resolve(response!);
    };
    const onAbort = () => finish(new HttpRequestError(`${where} aborted`, 'aborted'));

    const headers: Record<string, string> = { ...req.headers };
    if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
    const request = transport.module.request(url, { method, headers, agent: req.agent ?? transport.agent }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBody) {
          // finish first: destroying the response emits 'aborted' synchronously, which would settle as 'network'.
          finish(new HttpRequestError(`${where} answered ${res.statusCode} with a body over ${maxBody} bytes`, 'too-large'));
          res.destroy();
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () =>
        finish(undefined, { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', (e) => finish(new HttpRequestError(`${where}: the response broke off (${e.message})`, 'network', undefined, { cause: e })));
      res.on('aborted', () => finish(new HttpRequestError(`${where}: the response broke off`, 'network')));
    });
    request.on('error', (e: NodeJS.ErrnoException) =>
      finish(new HttpRequestError(`${where} failed: ${e.code ?? e.message}`, 'network', e.code, { cause: e })),
    );
    const timer =
      req.timeoutMs !== undefined && req.timeoutMs > 0
        ? setTimeout(() => finish(new HttpRequestError(`${where} timed out after ${req.timeoutMs} ms`, 'timeout')), req.timeoutMs)
        : undefined;
    req.signal?.addEventListener('abort', onAbort, { once: true });
    request.end(req.body);
  });
}

/** First value of a response header, case-insensitive. */
export function headerValue(res: HttpResponse, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}
