import { createHash, createHmac } from 'node:crypto';

/**
 * AWS Signature Version 4 (header form, HMAC-SHA256) for the requests this package sends: STS Query
 * POSTs. Checked against the AWS SigV4 test-suite vectors (fixtures/sigv4) and cross-checked against
 * `@smithy/signature-v4` and the local STS server's independent verifier in the tests.
 *
 * Not here, because STS does not need it: presigned URLs (query auth), SigV4a, chunked/streaming
 * payloads, S3's single-encoded unnormalized paths.
 */

export interface SigV4Request {
  method: string;
  /** The path as it goes on the wire (already percent-encoded once, as `URL.pathname` gives it). */
  path: string;
  /** Decoded query parameters, in any order. */
  query?: ReadonlyArray<readonly [string, string]>;
  /** Header names in any case; a repeated header as an array of its values in order. */
  headers: Readonly<Record<string, string | readonly string[]>>;
  body: string | Uint8Array;
}

export interface SigV4Key {
  accessKeyId: string;
  secretAccessKey: string;
}

/** Headers never signed (the same list `@smithy/signature-v4` keeps): proxies change or drop them. */
const UNSIGNABLE = new Set([
  'authorization',
  'cache-control',
  'connection',
  'expect',
  'from',
  'keep-alive',
  'max-forwards',
  'pragma',
  'referer',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'user-agent',
  'x-amzn-trace-id',
]);

/** RFC 3986 percent-encoding of everything but the unreserved characters `A-Z a-z 0-9 - . _ ~`. */
export function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * The canonical URI of a non-S3 service: `.`/`..` and empty segments removed, then every segment
 * percent-encoded (once more: the wire path is already encoded, so AWS services see it twice-encoded).
 */
export function canonicalUri(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const trailing = segments.length > 0 && path.endsWith('/') ? '/' : '';
  return `/${segments.map(uriEncode).join('/')}${trailing}`;
}

export function canonicalQuery(query: SigV4Request['query']): string {
  if (!query || query.length === 0) return '';
  const pairs = query.map(([k, v]) => [uriEncode(k), uriEncode(v)] as const);
  // Code-point order of the encoded strings (all ASCII), by name and then by value.
  pairs.sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

/** Lower-cased names, sorted; values trimmed with inner runs of whitespace folded; repeats joined with commas. */
export function canonicalHeaders(headers: SigV4Request['headers']): { canonical: string; signed: string } {
  const merged = new Map<string, string[]>();
  for (const [rawName, value] of Object.entries(headers)) {
    const name = rawName.toLowerCase();
    if (UNSIGNABLE.has(name)) continue;
    const list = merged.get(name) ?? [];
    for (const v of typeof value === 'string' ? [value] : value) list.push(v.trim().replace(/\s+/g, ' '));
    merged.set(name, list);
  }
  const names = [...merged.keys()].sort();
  return {
    canonical: names.map((n) => `${n}:${merged.get(n)!.join(',')}\n`).join(''),
    signed: names.join(';'),
  };
}

export const sha256Hex = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

export function canonicalRequest(req: SigV4Request): { canonical: string; signedHeaders: string } {
  const headers = canonicalHeaders(req.headers);
  const payloadHash = headerOf(req.headers, 'x-amz-content-sha256') ?? sha256Hex(req.body);
  const canonical = [
    req.method.toUpperCase(),
    canonicalUri(req.path),
    canonicalQuery(req.query),
    headers.canonical,
    headers.signed,
    payloadHash,
  ].join('\n');
  return { canonical, signedHeaders: headers.signed };
}

function headerOf(headers: SigV4Request['headers'], name: string): string | undefined {
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return typeof v === 'string' ? v : v.join(',');
  return undefined;
}

export function stringToSign(amzDate: string, scope: string, canonical: string): string {
  return `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256Hex(canonical)}`;
}

const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();

// The last signing key derived: one scope (day, region, service) per secret is the common case, and the
// four HMACs it saves are most of a signature's cost. Module-private; never printed or serialized.
let lastKey: { secret: string; scope: string; key: Buffer } | undefined;

/** The signing key for a scope: HMAC chain over `AWS4<secret>`, date, region, service and `aws4_request`. */
export function deriveSigningKey(secretAccessKey: string, day: string, region: string, service: string): Buffer {
  const scope = `${day}/${region}/${service}`;
  if (lastKey && lastKey.secret === secretAccessKey && lastKey.scope === scope) return lastKey.key;
  const key = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, day), region), service), 'aws4_request');
  lastKey = { secret: secretAccessKey, scope, key };
  return key;
}

/** `2024-01-02T03:04:05.678Z` → `20240102T030405Z`. */
export function toAmzDate(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The Authorization header value for a request whose headers already carry everything to sign
 * (including the date header). `amzDate` is the request time as `YYYYMMDDTHHMMSSZ`.
 */
export function authorizationFor(req: SigV4Request, key: SigV4Key, amzDate: string, region: string, service: string): string {
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${region}/${service}/aws4_request`;
  const { canonical, signedHeaders } = canonicalRequest(req);
  const signature = createHmac('sha256', deriveSigningKey(key.secretAccessKey, day, region, service))
    .update(stringToSign(amzDate, scope, canonical), 'utf8')
    .digest('hex');
  return `AWS4-HMAC-SHA256 Credential=${key.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
}

/**
 * Signs a request: returns its headers plus `x-amz-date`, `x-amz-security-token` (with a session
 * token) and `authorization`, lower-case names as `@smithy/signature-v4` returns them.
 */
export function signV4(
  req: SigV4Request,
  credentials: SigV4Key & { sessionToken?: string | undefined },
  region: string,
  service: string,
  date: Date,
): Record<string, string> {
  const amzDate = toAmzDate(date);
  const headers: Record<string, string | readonly string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    const name = k.toLowerCase();
    if (name === 'x-amz-date' || name === 'x-amz-security-token' || name === 'authorization') continue;
    headers[k] = v;
  }
  headers['x-amz-date'] = amzDate;
  if (credentials.sessionToken) headers['x-amz-security-token'] = credentials.sessionToken;
  const authorization = authorizationFor({ ...req, headers }, credentials, amzDate, region, service);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k] = typeof v === 'string' ? v : v.join(',');
  out.authorization = authorization;
  return out;
}
