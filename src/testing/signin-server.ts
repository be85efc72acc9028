import { createHash, createPublicKey, generateKeyPairSync, verify, type JsonWebKey } from 'node:crypto';
import type { Clock } from '../clock.js';
import { startLoopbackJson, type JsonAnswer, type JsonRequest } from './loopback-json.js';

/** A console session the local Sign-In service knows: its refresh token, bound to a DPoP key. */
export interface SigninSession {
  readonly clientId: string;
  readonly refreshToken: string;
  /** The session's DPoP key (the cache file's `dpopKey`, PEM): proofs must be signed with it. */
  readonly dpopKey: string;
  /** What to hand out for this refresh token (fixture answers); by default new numbered credentials. */
  readonly issue?: Omit<SigninIssued, 'expiresIn'> & { readonly expiresIn?: number };
}

export interface SigninServerOptions {
  /** Lifetime of the credentials issued. @default 900 (the service's maximum) */
  readonly expiresInSeconds?: number;
  /** How far a proof's `iat` may be from the server's clock, either way. @default 60 */
  readonly maxProofSkewSeconds?: number;
  /** Server clock for proof freshness. @default Date.now */
  readonly now?: Clock;
}

/** Why a request was turned down, or `'ok'`. */
export type DpopVerdict =
  | 'ok'
  | 'missing'
  | 'malformed'
  | 'bad-header'
  | 'bad-signature'
  | 'wrong-method'
  | 'wrong-url'
  | 'stale'
  | 'replayed'
  | 'wrong-key';

export interface SigninRequestRecord {
  readonly method: string;
  readonly path: string;
  readonly body: Record<string, unknown> | undefined;
  /** The DPoP proof's check (for token requests). */
  dpop: DpopVerdict | undefined;
  status: number;
}

export interface SigninFault {
  readonly status?: number;
  readonly body?: string;
  readonly delayMs?: number;
  readonly times?: number;
}

export interface SigninIssued {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly refreshToken: string;
  readonly expiresIn: number;
}

export interface SigninServer {
  /** `http://127.0.0.1:<port>`: pass as the Sign-In endpoint (`endpoint`, `AWS_ENDPOINT_URL_SIGNIN`). */
  readonly endpoint: string;
  readonly requests: readonly SigninRequestRecord[];
  readonly issued: readonly SigninIssued[];
  addSession(session: SigninSession): void;
  /** Ends a session: its refresh token gets 401 `TOKEN_EXPIRED` from now on. */
  revoke(refreshToken: string): void;
  addFault(fault: SigninFault): void;
  close(): Promise<void>;
}

/** A fresh EC P-256 key as `aws login` stores it (`dpopKey`: SEC1 PEM, `-----BEGIN EC PRIVATE KEY-----`). */
export function generateDpopKey(): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return privateKey.export({ format: 'pem', type: 'sec1' }).toString();
}

/** RFC 7638 thumbprint of an EC public JWK (what the service binds a refresh token to, `cnf.jkt`). */
function thumbprint(jwk: JsonWebKey): string {
  return createHash('sha256').update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })).digest('base64url');
}

/**
 * A local AWS Sign-In token service: `CreateOAuth2Token` (`POST /v1/token`, JSON) with the
 * refresh-token grant. It verifies the `DPoP` header as the real one must: a `dpop+jwt` with an ES256
 * signature by the embedded P-256 `jwk`, `htm` equal to the request method, `htu` equal to the URL
 * it was sent to, `iat` within `maxProofSkewSeconds`, a `jti` not seen before, and the key the
 * refresh token is bound to. It rotates refresh tokens and answers with the real error shapes
 * (400 `ValidationException` / `INVALID_REQUEST`, 401 `AccessDeniedException` / `TOKEN_EXPIRED`).
 * Error bodies echo the refresh token on purpose, so tests can prove a client never quotes them.
 */
export async function startSigninServer(options: SigninServerOptions = {}): Promise<SigninServer> {
  const now = options.now ?? (() => Date.now());
  const expiresIn = options.expiresInSeconds ?? 900;
  const skewS = options.maxProofSkewSeconds ?? 60;
  const sessions = new Map<string, { clientId: string; jkt: string; issue?: SigninSession['issue'] }>();
  const seenJti = new Set<string>();
  const requests: SigninRequestRecord[] = [];
  const issued: SigninIssued[] = [];
  const faults: { fault: SigninFault; left: number }[] = [];
  let n = 0;
  let origin = '';

  const error = (status: number, type: string, code: string, message: string): JsonAnswer => ({
    status,
    body: { error: code, message },
    headers: { 'x-amzn-errortype': type },
  });

  const checkProof = (req: JsonRequest): { verdict: DpopVerdict; jkt?: string } => {
    const header = req.headers.dpop;
    const proof = Array.isArray(header) ? header[0] : header;
    if (proof === undefined || proof === '') return { verdict: 'missing' };
    const parts = proof.split('.');
    if (parts.length !== 3) return { verdict: 'malformed' };
    let head: { typ?: unknown; alg?: unknown; jwk?: JsonWebKey };
    let claims: { jti?: unknown; htm?: unknown; htu?: unknown; iat?: unknown };
    try {
      head = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8'));
      claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
    } catch {
      return { verdict: 'malformed' };
    }
    if (head.typ !== 'dpop+jwt' || head.alg !== 'ES256' || head.jwk?.kty !== 'EC' || head.jwk.crv !== 'P-256' || 'd' in head.jwk) return { verdict: 'bad-header' };
    let ok = false;
    try {
      const key = createPublicKey({ key: head.jwk, format: 'jwk' });
      ok = verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(parts[2]!, 'base64url'));
    } catch {
      ok = false;
    }
    if (!ok) return { verdict: 'bad-signature' };
    if (claims.htm !== req.method) return { verdict: 'wrong-method' };
    if (claims.htu !== `${origin}${req.path}`) return { verdict: 'wrong-url' };
    if (typeof claims.iat !== 'number' || Math.abs(claims.iat - now() / 1000) > skewS) return { verdict: 'stale' };
    if (typeof claims.jti !== 'string' || seenJti.has(claims.jti)) return { verdict: 'replayed' };
    seenJti.add(claims.jti);
    return { verdict: 'ok', jkt: thumbprint(head.jwk) };
  };

  const server = await startLoopbackJson(async (req) => {
    let body: Record<string, unknown> | undefined;
    try {
      const parsed: unknown = JSON.parse(req.body);
      body = parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : undefined;
    } catch {
      body = undefined;
    }
    const record: SigninRequestRecord = { method: req.method, path: req.path, body, dpop: undefined, status: 0 };
    requests.push(record);
    const answer = await (async (): Promise<JsonAnswer> => {
      const pending = faults[0];
      if (pending !== undefined) {
        if (--pending.left <= 0) faults.shift();
        if (pending.fault.delayMs !== undefined) await new Promise((r) => setTimeout(r, pending.fault.delayMs));
        if (pending.fault.status !== undefined) return { status: pending.fault.status, body: pending.fault.body ?? '' };
      }
      if (req.path !== '/v1/token') return { status: 404, body: { message: 'not found' } };
      const { verdict, jkt } = checkProof(req);
      record.dpop = verdict;
      if (verdict !== 'ok') return error(400, 'ValidationException', 'INVALID_REQUEST', `DPoP proof rejected: ${verdict}`);
      if (body === undefined) return error(400, 'ValidationException', 'INVALID_REQUEST', 'body is not JSON');
      if (body.grantType !== 'refresh_token') return error(400, 'ValidationException', 'INVALID_REQUEST', `unsupported grant ${String(body.grantType)}`);
      const refreshToken = body.refreshToken;
      const session = typeof refreshToken === 'string' ? sessions.get(refreshToken) : undefined;
      if (session === undefined || session.clientId !== body.clientId) {
        return error(401, 'AccessDeniedException', 'TOKEN_EXPIRED', `refresh token ${String(refreshToken)} is expired or unknown`);
      }
      if (session.jkt !== jkt) {
        record.dpop = 'wrong-key';
        return error(400, 'ValidationException', 'INVALID_REQUEST', 'the DPoP key is not the one the refresh token is bound to');
      }
      sessions.delete(refreshToken as string);
      n += 1;
      const id = String(n).padStart(8, '0');
      const out: SigninIssued = session.issue
        ? { ...session.issue, expiresIn: session.issue.expiresIn ?? expiresIn }
        : {
            accessKeyId: `ASIASIGNIN${id}00`,
            secretAccessKey: `signinSecret${id}CANARY/abcdefghij0123456789`,
            sessionToken: `signinSessionToken${id}CANARY`,
            refreshToken: `signin-refresh-token-${n}`,
            expiresIn,
          };
      sessions.set(out.refreshToken, { clientId: session.clientId, jkt: session.jkt });
      issued.push(out);
      return {
        status: 200,
        body: {
          accessToken: { accessKeyId: out.accessKeyId, secretAccessKey: out.secretAccessKey, sessionToken: out.sessionToken },
          tokenType: 'aws_sigv4',
          expiresIn: out.expiresIn,
          refreshToken: out.refreshToken,
        },
      };
    })();
    record.status = answer.status;
    return answer;
  });
  origin = server.endpoint;

  return {
    endpoint: server.endpoint,
    requests,
    issued,
    addSession(session) {
      const jwk = createPublicKey(session.dpopKey).export({ format: 'jwk' });
      sessions.set(session.refreshToken, { clientId: session.clientId, jkt: thumbprint(jwk), ...(session.issue ? { issue: session.issue } : {}) });
    },
    revoke(refreshToken) {
      sessions.delete(refreshToken);
    },
    addFault(fault) {
      faults.push({ fault, left: fault.times ?? 1 });
    },
    close: () => server.close(),
  };
}
