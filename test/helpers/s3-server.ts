import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { formatAmzDate, parseAmzDate, parseAuthorization, SigV4Failure, verifySignature } from '../../src/testing/sts-sigv4.js';

/**
 * A test-only S3 on a random loopback port, just enough for SDK integration tests: path-style
 * ListBuckets and GetObject, every request's SigV4 signature (service `s3`) checked with the same
 * independent verifier the local STS uses. Which keys it accepts is up to the test (`credentialsFor`),
 * so credentials issued by the local STS, IMDS or container servers can all be checked.
 */

export interface S3ServerCredentials {
  readonly secretAccessKey: string;
  /** When set, requests must carry exactly this `x-amz-security-token`; when unset, none. */
  readonly sessionToken?: string;
}

export interface S3ServerOptions {
  /** The secret (and session token) for an access key id; undefined for a key the server does not know. */
  readonly credentialsFor: (accessKeyId: string) => S3ServerCredentials | undefined;
  /** bucket → key → object body. */
  readonly objects?: Record<string, Record<string, string>>;
  /** Largest allowed signature age. @default 15 minutes */
  readonly maxSignatureAgeMs?: number;
}

export interface S3RequestRecord {
  readonly method: string;
  readonly path: string;
  readonly accessKeyId: string | undefined;
  readonly signingService: string | undefined;
  readonly signingRegion: string | undefined;
  signatureValid: boolean;
  status: number;
  errorCode: string | undefined;
}

export interface S3Server {
  /** `http://127.0.0.1:<port>`: the client's `endpoint` (with `forcePathStyle: true`). */
  readonly url: string;
  readonly requests: readonly S3RequestRecord[];
  close(): Promise<void>;
}

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

class S3Reject extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function startS3Server(options: S3ServerOptions): Promise<S3Server> {
  const objects = options.objects ?? {};
  const maxAgeMs = options.maxSignatureAgeMs ?? 15 * 60_000;
  const requests: S3RequestRecord[] = [];
  const sockets = new Set<Socket>();

  function authenticate(req: IncomingMessage, body: Buffer, record: { -readonly [K in keyof S3RequestRecord]: S3RequestRecord[K] }): void {
    const header = req.headers.authorization;
    if (!header) throw new S3Reject(403, 'AccessDenied', 'Anonymous access is not allowed.');
    let auth;
    try {
      auth = parseAuthorization(header);
    } catch (e) {
      throw new S3Reject(400, 'AuthorizationHeaderMalformed', (e as Error).message);
    }
    record.accessKeyId = auth.accessKeyId;
    record.signingService = auth.service;
    record.signingRegion = auth.region;
    const amzDate = String(req.headers['x-amz-date'] ?? '');
    const signedAt = parseAmzDate(amzDate);
    if (Number.isNaN(signedAt) || Math.abs(signedAt - Date.now()) > maxAgeMs)
      throw new S3Reject(403, 'RequestTimeTooSkewed', `The difference between the request time (${amzDate}) and the current time (${formatAmzDate(Date.now())}) is too large.`);
    const known = options.credentialsFor(auth.accessKeyId);
    if (!known) throw new S3Reject(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
    const token = req.headers['x-amz-security-token'];
    if (token !== known.sessionToken) throw new S3Reject(400, 'InvalidToken', 'The provided token is malformed or otherwise invalid.');
    try {
      verifySignature(req, body, auth, amzDate, known.secretAccessKey, 's3');
    } catch (e) {
      if (e instanceof SigV4Failure) throw new S3Reject(e.code === 'XAmzContentSHA256Mismatch' ? 400 : 403, e.code, e.message);
      throw e;
    }
    record.signatureValid = true;
  }

  function answer(req: IncomingMessage, path: string): { status: number; type: string; body: string } {
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    if (req.method === 'GET' && parts.length === 0) {
      const buckets = Object.keys(objects)
        .map((name) => `<Bucket><Name>${xmlEscape(name)}</Name><CreationDate>2024-01-01T00:00:00.000Z</CreationDate></Bucket>`)
        .join('');
      return {
        status: 200,
        type: 'application/xml',
        body: `<?xml version="1.0" encoding="UTF-8"?>\n<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>credchain-test</ID></Owner><Buckets>${buckets}</Buckets></ListAllMyBucketsResult>`,
      };
    }
    if (req.method === 'GET' && parts.length >= 2) {
      const [bucket, ...key] = parts as [string, ...string[]];
      const body = objects[bucket]?.[key.join('/')];
      if (body !== undefined) return { status: 200, type: 'text/plain', body };
      throw new S3Reject(404, objects[bucket] ? 'NoSuchKey' : 'NoSuchBucket', 'The specified key does not exist.');
    }
    throw new S3Reject(501, 'NotImplemented', 'This test S3 answers ListBuckets and GetObject only.');
  }

  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const record = {
        method: req.method ?? '',
        path: url.pathname,
        accessKeyId: undefined as string | undefined,
        signingService: undefined as string | undefined,
        signingRegion: undefined as string | undefined,
        signatureValid: false,
        status: 0,
        errorCode: undefined as string | undefined,
      };
      requests.push(record);
      let out: { status: number; type: string; body: string };
      try {
        authenticate(req, Buffer.concat(chunks), record);
        out = answer(req, url.pathname);
      } catch (e) {
        if (!(e instanceof S3Reject)) throw e;
        record.errorCode = e.code;
        out = {
          status: e.status,
          type: 'application/xml',
          body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${e.code}</Code><Message>${xmlEscape(e.message)}</Message><RequestId>credchain-test</RequestId></Error>`,
        };
      }
      record.status = out.status;
      res.writeHead(out.status, { 'content-type': out.type, 'content-length': Buffer.byteLength(out.body), 'x-amz-request-id': 'credchain-test' });
      res.end(out.body);
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
