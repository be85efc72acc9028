import { startLoopbackJson, type JsonAnswer } from './loopback-json.js';

/** A client registration the local SSO-OIDC service knows (what `aws sso login` registered). */
export interface OidcClient {
  readonly clientId: string;
  readonly clientSecret: string;
}

export interface OidcServerOptions {
  /** Lifetime of each access token issued. @default 3600 */
  readonly expiresInSeconds?: number;
  /** Issue a new refresh token with each access token and retire the old one. @default true */
  readonly rotateRefreshTokens?: boolean;
}

/** One CreateToken request as the local service saw it (secrets included: it is a test tool). */
export interface OidcRequestRecord {
  readonly method: string;
  readonly path: string;
  readonly contentType: string | undefined;
  readonly grantType: unknown;
  readonly clientId: unknown;
  readonly refreshToken: unknown;
  /** The status answered. */
  status: number;
}

/** A misbehaviour for the next `times` requests (default 1): a status and body, or a delay first. */
export interface OidcFault {
  readonly status?: number;
  readonly body?: string;
  readonly delayMs?: number;
  readonly times?: number;
}

export interface OidcServer {
  /** `http://127.0.0.1:<port>`: pass as the SSO-OIDC endpoint (`oidcEndpoint`, `AWS_ENDPOINT_URL_SSO_OIDC`). */
  readonly endpoint: string;
  readonly requests: readonly OidcRequestRecord[];
  /** Registers a client and a refresh token it may use. */
  addGrant(client: OidcClient, refreshToken: string): void;
  /** Access tokens issued so far, in order (give them to the SSO portal fake as valid tokens). */
  readonly issued: readonly { accessToken: string; refreshToken: string | undefined; expiresIn: number }[];
  /** Called with each access token as it is issued. */
  onIssue?: (accessToken: string) => void;
  addFault(fault: OidcFault): void;
  close(): Promise<void>;
}

/**
 * A local IAM Identity Center OIDC service answering `CreateToken` (`POST /token`, JSON) for
 * `grantType: refresh_token` as the real one does: 400 `invalid_grant` for an unknown or retired
 * refresh token, 401 `invalid_client` for a wrong client id or secret, 400 `unsupported_grant_type`,
 * 400 `invalid_request` for a body that is not JSON. Error bodies echo the refresh token on purpose,
 * so tests can prove that a client never quotes them.
 */
export async function startOidcServer(options: OidcServerOptions = {}): Promise<OidcServer> {
  const expiresIn = options.expiresInSeconds ?? 3600;
  const rotate = options.rotateRefreshTokens ?? true;
  const clients = new Map<string, string>();
  const grants = new Map<string, string>(); // refresh token -> client id
  const requests: OidcRequestRecord[] = [];
  const issued: { accessToken: string; refreshToken: string | undefined; expiresIn: number }[] = [];
  const faults: { fault: OidcFault; left: number }[] = [];
  let n = 0;

  const error = (status: number, code: string, description: string, type: string): JsonAnswer => ({
    status,
    body: { error: code, error_description: description },
    headers: { 'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazonaws.switchboard.portal/` },
  });

  const server = await startLoopbackJson(async (req) => {
    let body: Record<string, unknown> = {};
    let parsed = true;
    try {
      body = JSON.parse(req.body) as Record<string, unknown>;
      if (body === null || typeof body !== 'object') parsed = false;
    } catch {
      parsed = false;
    }
    const record: OidcRequestRecord = {
      method: req.method,
      path: req.path,
      contentType: req.headers['content-type'],
      grantType: body?.grantType,
      clientId: body?.clientId,
      refreshToken: body?.refreshToken,
      status: 0,
    };
    requests.push(record);
    const answer = await (async (): Promise<JsonAnswer> => {
      const pending = faults[0];
      if (pending !== undefined) {
        if (--pending.left <= 0) faults.shift();
        if (pending.fault.delayMs !== undefined) await new Promise((r) => setTimeout(r, pending.fault.delayMs));
        if (pending.fault.status !== undefined) return { status: pending.fault.status, body: pending.fault.body ?? '' };
      }
      if (req.method !== 'POST' || req.path !== '/token') return { status: 404, body: { message: 'not found' } };
      if (!parsed) return error(400, 'invalid_request', 'body is not JSON', 'InvalidRequestException');
      if (body.grantType !== 'refresh_token') return error(400, 'unsupported_grant_type', `grant ${String(body.grantType)}`, 'UnsupportedGrantTypeException');
      const clientId = body.clientId;
      if (typeof clientId !== 'string' || clients.get(clientId) === undefined || clients.get(clientId) !== body.clientSecret) {
        return error(401, 'invalid_client', `bad client ${String(clientId)} / ${String(body.clientSecret)}`, 'InvalidClientException');
      }
      const refreshToken = body.refreshToken;
      if (typeof refreshToken !== 'string' || grants.get(refreshToken) !== clientId) {
        return error(400, 'invalid_grant', `refresh token ${String(refreshToken)} is not valid`, 'InvalidGrantException');
      }
      n += 1;
      const accessToken = `oidc-access-token-${n}`;
      let next: string | undefined;
      if (rotate) {
        grants.delete(refreshToken);
        next = `oidc-refresh-token-${n}`;
        grants.set(next, clientId);
      }
      issued.push({ accessToken, refreshToken: next, expiresIn });
      out.onIssue?.(accessToken);
      return { status: 200, body: { accessToken, tokenType: 'Bearer', expiresIn, ...(next !== undefined ? { refreshToken: next } : {}) } };
    })();
    record.status = answer.status;
    return answer;
  });

  const out: OidcServer = {
    endpoint: server.endpoint,
    requests,
    issued,
    addGrant(client, refreshToken) {
      clients.set(client.clientId, client.clientSecret);
      grants.set(refreshToken, client.clientId);
    },
    addFault(fault) {
      faults.push({ fault, left: fault.times ?? 1 });
    },
    close: () => server.close(),
  };
  return out;
}
