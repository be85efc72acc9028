import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';

/** A role the local portal hands out, keyed by `<accountId>/<roleName>`. */
export interface PortalRole {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  /** Epoch milliseconds, as the real portal sends it. */
  readonly expirationMs: number;
}

export interface PortalRequest {
  readonly method: string;
  readonly path: string;
  readonly accountId: string | null;
  readonly roleName: string | null;
  readonly token: string | undefined;
}

export interface SsoPortal {
  /** `http://127.0.0.1:<port>`: pass as the SSO endpoint. */
  readonly endpoint: string;
  readonly requests: PortalRequest[];
  /** Access tokens the portal accepts; any other token gets 401 (UnauthorizedException). */
  readonly validTokens: Set<string>;
  readonly roles: Map<string, PortalRole>;
  /** When set, every request is answered with this status and body instead. */
  override: { status: number; body: string } | undefined;
  close(): Promise<void>;
}

/**
 * A loopback stand-in for the IAM Identity Center portal's GetRoleCredentials
 * (`GET /federation/credentials?account_id=&role_name=`, token in `x-amz-sso_bearer_token`), with
 * the real service's error shapes: 401 for a bad token, 403 for a role the token may not use.
 */
export async function startSsoPortal(): Promise<SsoPortal> {
  const sockets = new Set<Socket>();
  const portal: Omit<SsoPortal, 'endpoint' | 'close'> = { requests: [], validTokens: new Set(), roles: new Map(), override: undefined };
  const send = (res: http.ServerResponse, status: number, body: unknown, type?: string) => {
    res.writeHead(status, { 'content-type': 'application/json', ...(type ? { 'x-amzn-errortype': type } : {}) });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://portal');
    const header = req.headers['x-amz-sso_bearer_token'];
    const token = Array.isArray(header) ? header[0] : header;
    const request = {
      method: req.method ?? 'GET',
      path: url.pathname,
      accountId: url.searchParams.get('account_id'),
      roleName: url.searchParams.get('role_name'),
      token,
    };
    portal.requests.push(request);
    req.resume();
    if (portal.override) return send(res, portal.override.status, portal.override.body);
    if (request.method !== 'GET' || request.path !== '/federation/credentials') return send(res, 404, { message: 'not found' });
    if (token === undefined || !portal.validTokens.has(token)) {
      // The real portal echoes nothing useful; this one echoes the token to prove we never quote bodies.
      return send(res, 401, { message: `Session token not found or invalid: ${token}` }, 'UnauthorizedException');
    }
    const role = portal.roles.get(`${request.accountId}/${request.roleName}`);
    if (role === undefined) return send(res, 403, { message: `No access for ${token}` }, 'ForbiddenException');
    send(res, 200, {
      roleCredentials: {
        accessKeyId: role.accessKeyId,
        secretAccessKey: role.secretAccessKey,
        sessionToken: role.sessionToken,
        expiration: role.expirationMs,
      },
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(portal, {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  });
}

/** The token cache file text `aws sso login` writes (the fields fromSso reads, plus ones it must ignore). */
export function cachedToken(accessToken: string, expiresAt: string, startUrl = 'https://corp.awsapps.com/start'): string {
  return JSON.stringify({ accessToken, expiresAt, startUrl, region: 'us-east-1', refreshToken: 'REFRESH-CANARY', clientSecret: 'CLIENT-SECRET-CANARY' });
}

/** The fixed world the SSO tests share: a time, a start URL, a role and the credentials the portal hands out for it. */
export const SSO_T0 = Date.parse('2031-03-01T12:00:00Z');
export const HOUR = 3_600_000;
export const START_URL = 'https://corp.awsapps.com/start';
export const ACCOUNT = '111122223333';
export const ROLE = 'Developer';
export const TOKEN = 'sso-access-token-CANARY-0001';
export const ROLE_CREDS: PortalRole = {
  accessKeyId: 'ASIASSOROLE000000001',
  secretAccessKey: 'ssoRoleSecret/CANARY0123456789abcdefghij',
  sessionToken: 'ssoRoleSessionToken-CANARY',
  expirationMs: SSO_T0 + HOUR,
};

export const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');

export interface SsoWorld {
  /** A fresh home with an empty `~/.aws/sso/cache` for each test. */
  readonly home: string;
  /** A fresh portal for each test that accepts TOKEN for ACCOUNT/ROLE (replace it if a test closes it). */
  portal: SsoPortal;
  /** The fake time; `clock` reads it. Reset to SSO_T0 before each test. */
  now: number;
  readonly clock: () => number;
  cacheDir(): string;
  /** Writes a token cache file named by the SHA-1 of `key` (sso-session name or start URL). */
  writeToken(key: string, text: string): Promise<string>;
  /** A cached token valid for 8 hours after SSO_T0. */
  validToken(key: string, token?: string): Promise<string>;
}

/** Registers the hooks that give every test a fresh home and portal; returns the live world. */
export function useSsoWorld(): SsoWorld {
  let root = '';
  let n = 0;
  const world: { home: string; portal: SsoPortal; now: number } & Omit<SsoWorld, 'home' | 'portal' | 'now'> = {
    home: '',
    portal: undefined as unknown as SsoPortal,
    now: SSO_T0,
    clock: () => world.now,
    cacheDir: () => path.join(world.home, '.aws', 'sso', 'cache'),
    async writeToken(key, text) {
      const file = path.join(world.cacheDir(), `${sha1(key)}.json`);
      await writeFile(file, text);
      return file;
    },
    validToken: (key, token = TOKEN) => world.writeToken(key, cachedToken(token, new Date(SSO_T0 + 8 * HOUR).toISOString())),
  };
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'credchain-sso-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });
  beforeEach(async () => {
    world.home = path.join(root, `home-${++n}`);
    await mkdir(world.cacheDir(), { recursive: true });
    world.now = SSO_T0;
    world.portal = await startSsoPortal();
    world.portal.validTokens.add(TOKEN);
    world.portal.roles.set(`${ACCOUNT}/${ROLE}`, ROLE_CREDS);
  });
  afterEach(async () => {
    await world.portal.close();
  });
  return world;
}
