import type { Credentials } from '../credentials.js';
import { signV4 } from './sigv4.js';

export interface UnsignedRequest {
  url: URL;
  headers: Record<string, string>;
  body: string;
}

/** Signs a POST with SigV4 for `sts`; returns the headers to send (adds X-Amz-Date, token, Authorization). */
export async function signRequest(
  req: UnsignedRequest,
  credentials: Credentials,
  signingRegion: string,
  signingDate: Date,
): Promise<Record<string, string>> {
  const query: [string, string][] = [...req.url.searchParams];
  return signV4(
    { method: 'POST', path: req.url.pathname, query, headers: req.headers, body: req.body },
    credentials,
    signingRegion,
    'sts',
    signingDate,
  );
}
