import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * An independent SigV4 verifier (header auth) for the local STS server. It shares no code with the
 * client's signer on purpose: a bug in one shows up as a failed call instead of cancelling out.
 */

export interface ParsedAuthorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  terminator: string;
  signedHeaders: string[];
  signature: string;
}

/** Returned when the Authorization header cannot be read; `message` follows STS's wording. */
export class SigV4Failure extends Error {
  constructor(
    readonly code: 'IncompleteSignature' | 'SignatureDoesNotMatch' | 'XAmzContentSHA256Mismatch',
    message: string,
  ) {
    super(message);
  }
}

export function parseAuthorization(header: string): ParsedAuthorization {
  const match = /^AWS4-HMAC-SHA256\s+(.*)$/.exec(header.trim());
  if (!match) throw new SigV4Failure('IncompleteSignature', `Authorization header requires the AWS4-HMAC-SHA256 algorithm.`);
  const parts = new Map<string, string>();
  for (const piece of match[1]!.split(',')) {
    const eq = piece.indexOf('=');
    if (eq > 0) parts.set(piece.slice(0, eq).trim(), piece.slice(eq + 1).trim());
  }
  const credential = parts.get('Credential');
  const signedHeaders = parts.get('SignedHeaders');
  const signature = parts.get('Signature');
  if (!credential || !signedHeaders || !signature)
    throw new SigV4Failure(
      'IncompleteSignature',
      `Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters.`,
    );
  const scope = credential.split('/');
  if (scope.length !== 5) throw new SigV4Failure('IncompleteSignature', `Credential should be scoped to a valid region.`);
  const [accessKeyId, date, region, service, terminator] = scope as [string, string, string, string, string];
  return { accessKeyId, date, region, service, terminator, signedHeaders: signedHeaders.split(';'), signature };
}

const rfc3986 = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function canonicalUri(path: string): string {
  const segments = path.split('/').map((seg) => rfc3986(decodeURIComponent(seg)));
  return segments.join('/') || '/';
}

function canonicalQuery(search: URLSearchParams): string {
  return [...search]
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/** Header values as sent: every occurrence of a name, joined with commas, whitespace folded. */
function headerValues(req: IncomingMessage): Map<string, string> {
  const out = new Map<string, string[]>();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const list = out.get(name) ?? [];
    list.push(raw[i + 1]!.trim().replace(/\s+/g, ' '));
    out.set(name, list);
  }
  return new Map([...out].map(([k, v]) => [k, v.join(',')]));
}

const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

/** The signing key for a scope: HMAC chain over date, region, service and "aws4_request". */
export function signingKey(secretAccessKey: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, date), region), service), 'aws4_request');
}

/**
 * Recomputes the signature of `req` with `secretAccessKey` and compares it with the one sent.
 * Throws `SigV4Failure` on mismatch. `amzDate` is the request's X-Amz-Date (already checked for time).
 * `service` is the signing name the credential scope must carry (the local S3 of the tests passes `s3`).
 */
export function verifySignature(
  req: IncomingMessage,
  body: Buffer,
  auth: ParsedAuthorization,
  amzDate: string,
  secretAccessKey: string,
  service = 'sts',
): void {
  const headers = headerValues(req);
  if (!auth.signedHeaders.includes('host'))
    throw new SigV4Failure('SignatureDoesNotMatch', `'Host' must be a 'SignedHeader' in the AWS Authorization.`);
  if (!amzDate.startsWith(auth.date))
    throw new SigV4Failure('SignatureDoesNotMatch', `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.date}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`);
  if (auth.service !== service || auth.terminator !== 'aws4_request')
    throw new SigV4Failure('SignatureDoesNotMatch', `Credential should be scoped to correct service: '${service}'.`);

  const actualPayloadHash = sha256Hex(body);
  const declared = headers.get('x-amz-content-sha256');
  if (declared !== undefined && declared !== 'UNSIGNED-PAYLOAD' && declared !== actualPayloadHash)
    throw new SigV4Failure('XAmzContentSHA256Mismatch', 'The provided x-amz-content-sha256 header does not match what was computed.');
  const payloadHash = declared ?? actualPayloadHash;

  const url = new URL(req.url ?? '/', 'http://localhost');
  const canonicalHeaders = auth.signedHeaders.map((name) => `${name}:${headers.get(name) ?? ''}\n`).join('');
  const canonicalRequest = [
    req.method ?? 'POST',
    canonicalUri(url.pathname),
    canonicalQuery(url.searchParams),
    canonicalHeaders,
    auth.signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
  const scope = `${auth.date}/${auth.region}/${auth.service}/${auth.terminator}`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const expected = createHmac('sha256', signingKey(secretAccessKey, auth.date, auth.region, auth.service)).update(stringToSign).digest();
  const given = Buffer.from(auth.signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    throw new SigV4Failure(
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    );
}

/** `20240102T030405Z` → epoch ms, or NaN. */
export function parseAmzDate(value: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return Number.NaN;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

/** Epoch ms → `20240102T030405Z`. */
export function formatAmzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}
