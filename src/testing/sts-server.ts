import { randomBytes, randomUUID } from 'node:crypto';
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { formatAmzDate, parseAmzDate, parseAuthorization, SigV4Failure, verifySignature } from './sts-sigv4.js';

/**
 * A local STS (Query API 2011-06-15) for tests: loopback only, random port, SigV4 verified by its
 * own code, temporary credentials it issued accepted until they expire, real STS error shapes, and
 * fault injection. Start it with `startStsServer()`, point a client at `server.url`, `close()` it.
 */

/** A long-term IAM user the server knows. */
export interface StsServerUser {
  secretAccessKey: string;
  /** @default `arn:aws:iam::{account}:user/{accessKeyId}` */
  arn?: string;
  /** @default `AIDA…` derived from the key */
  userId?: string;
  /** @default the server's `account` */
  account?: string;
}

/** Settings for one assumable role (when `roles` is given, only those roles can be assumed). */
export interface StsServerRole {
  /** @default 3600 */
  maxSessionDurationSeconds?: number;
  /** When set, AssumeRole must pass this ExternalId. */
  externalId?: string;
}

/** What the server makes of a web identity token: claims, or a rejection. */
export type WebIdentityVerdict =
  | { subject: string; audience: string; provider: string }
  | { error: 'InvalidIdentityToken' | 'ExpiredTokenException' | 'IDPRejectedClaim' | 'IDPCommunicationError'; message: string };

/** A failure to inject for one request. `action` limits it to requests for that STS action. */
export type StsFault = (
  | /** 400 Throttling "Rate exceeded". */ { kind: 'throttle' }
  | /** Any STS error document. */ { kind: 'error'; status: number; code: string; message?: string; type?: 'Sender' | 'Receiver' }
  | /** 500 (or `status`) InternalFailure. */ { kind: 'server-error'; status?: number }
  | /** Wait, then answer normally. */ { kind: 'delay'; ms: number }
  | /** Never answer (until the client gives up or the server closes). */ { kind: 'hang' }
  | /** Cut the normal XML answer in half. */ { kind: 'truncate' }
  | /** An HTML page instead of XML. */ { kind: 'non-xml'; status?: number }
  | /** A body of zero bytes. */ { kind: 'empty'; status?: number }
  | /** Handle this request as if the server's clock were `offsetMs` ahead (signature age check and `Date`). */ {
      kind: 'skew';
      offsetMs: number;
    }
  | /** Destroy the connection without answering. */ { kind: 'reset' }
) & { action?: string };

export interface StsServerOptions {
  /** accessKeyId → secret key or user. @default one user, `STS_SERVER_DEFAULT_USER` */
  users?: Record<string, string | StsServerUser>;
  /** Account of users without one and of roles without an account in their ARN. @default '123456789012' */
  account?: string;
  /** roleArn → settings. When given, other roles get AccessDenied. @default any well-formed role ARN */
  roles?: Record<string, StsServerRole>;
  /** The server's clock (ms): signature age, issued expirations, expiry checks, `Date` header. @default Date.now */
  now?: () => number;
  /** Judges web identity tokens. @default unsigned JWT check: three parts, `sub`, `aud`, `iss`, `exp` vs `now` */
  verifyWebIdentityToken?: (token: string, providerId: string | undefined) => WebIdentityVerdict;
  /** serialNumber → the one token code that passes MFA. Other serial numbers accept any six digits. */
  mfaTokenCodes?: Record<string, string>;
  /** When set, requests must be signed for this region. */
  region?: string;
  /** Largest allowed request-signature age (either direction). @default 15 minutes, as AWS */
  maxSignatureAgeMs?: number;
}

/** What the server recorded about one request. */
export interface StsRequestRecord {
  /** STS action, e.g. `AssumeRole` (undefined when the request had none). */
  action: string | undefined;
  /** All form and query parameters as received (they may hold tokens: test data only). */
  params: Record<string, string>;
  /** The raw request body. */
  body: string;
  headers: IncomingHttpHeaders;
  method: string;
  /** True when the request carried a SigV4 Authorization header. */
  signed: boolean;
  /** The access key id the request was signed with. */
  accessKeyId: string | undefined;
  /** The region in the signature's credential scope. */
  signingRegion: string | undefined;
  /** True when the signature checked out with the key's secret. */
  signatureValid: boolean;
  /** HTTP status answered (undefined for hang/reset). */
  status: number | undefined;
  /** STS error code answered, if any. */
  errorCode: string | undefined;
  /** The injected fault, if one applied. */
  fault: StsFault['kind'] | undefined;
  requestId: string;
}

/** Temporary credentials the server issued; it accepts them until `expiresAtMs`. */
export interface StsIssuedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiresAtMs: number;
  /** The ARN GetCallerIdentity reports for them. */
  arn: string;
  userId: string;
  account: string;
  kind: 'assumed-role' | 'session' | 'federated';
}

export interface StsServer {
  /** `http://127.0.0.1:{port}`: pass as the client's `endpoint`. */
  readonly url: string;
  readonly port: number;
  /** Every request received, oldest first. */
  readonly requests: readonly StsRequestRecord[];
  /** Requests received: `total` and one entry per action (`AssumeRole: 2`). */
  readonly counts: Readonly<Record<string, number>>;
  /** Credentials issued so far, oldest first. */
  readonly issued: readonly StsIssuedCredentials[];
  /** Queues faults; each applies to one later request (matching its `action`, if set). */
  inject(...faults: StsFault[]): void;
  /** Makes a share (0–1) of requests fail with `fault`. `random` is injectable for repeatable tests. */
  setFaultRate(rate: number, fault: StsFault, random?: () => number): void;
  clearFaults(): void;
  /** Adds (or replaces) a long-term user. */
  addUser(accessKeyId: string, user: string | StsServerUser): void;
  /** An encoded message that DecodeAuthorizationMessage turns back into `decoded`. */
  encodeAuthorizationMessage(decoded: string): string;
  /** Forgets the request log and counts. */
  clearLog(): void;
  close(): Promise<void>;
}

/** The user the server knows when no `users` are given (the AWS documentation's example key pair). */
export const STS_SERVER_DEFAULT_USER = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
} as const;

const NS = 'https://sts.amazonaws.com/doc/2011-06-15/';
const ACTIONS = new Set([
  'AssumeRole',
  'AssumeRoleWithSAML',
  'AssumeRoleWithWebIdentity',
  'GetSessionToken',
  'GetFederationToken',
  'GetCallerIdentity',
  'DecodeAuthorizationMessage',
  'GetAccessKeyInfo',
]);
const UNSIGNED_ACTIONS = new Set(['AssumeRoleWithSAML', 'AssumeRoleWithWebIdentity']);
const ROLE_ARN = /^arn:aws[\w-]*:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]+)$/;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const xml = (fields: Record<string, string | number | undefined>) =>
  Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `<${k}>${esc(String(v))}</${k}>`)
    .join('');
const upperId = (prefix: string, n: number) => prefix + randomBytes(n).toString('hex').toUpperCase().slice(0, n);

/** An STS error answer. */
class StsReject {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly message: string,
    readonly type: 'Sender' | 'Receiver' = status >= 500 ? 'Receiver' : 'Sender',
  ) {}
}
const validation = (message: string) => new StsReject(400, 'ValidationError', message);

interface Caller {
  accessKeyId: string;
  arn: string;
  userId: string;
  account: string;
  kind: 'user' | StsIssuedCredentials['kind'];
}

function decodeJwtClaims(token: string, nowMs: number): WebIdentityVerdict {
  const parts = token.split('.');
  let claims: Record<string, unknown> | undefined;
  try {
    if (parts.length === 3) claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    claims = undefined;
  }
  if (!claims || typeof claims !== 'object') return { error: 'InvalidIdentityToken', message: 'The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)' };
  const { sub, aud, iss, exp } = claims;
  if (typeof exp === 'number' && exp * 1000 <= nowMs) return { error: 'ExpiredTokenException', message: 'Token expired: current date/time must be before the expiration date/time' };
  if (typeof sub !== 'string' || typeof iss !== 'string') return { error: 'InvalidIdentityToken', message: 'Missing a required claim: sub or iss' };
  const audience = Array.isArray(aud) ? String(aud[0]) : typeof aud === 'string' ? aud : 'sts.amazonaws.com';
  return { subject: sub, audience, provider: iss.replace(/^https:\/\//, '') };
}

/** Starts a local STS on a random loopback port. */
export async function startStsServer(options: StsServerOptions = {}): Promise<StsServer> {
  const now = options.now ?? Date.now;
  const account = options.account ?? '123456789012';
  const maxAgeMs = options.maxSignatureAgeMs ?? 15 * 60_000;
  const users = new Map<string, StsServerUser>();
  const addUser = (id: string, u: string | StsServerUser) => users.set(id, typeof u === 'string' ? { secretAccessKey: u } : u);
  for (const [id, u] of Object.entries(options.users ?? { [STS_SERVER_DEFAULT_USER.accessKeyId]: STS_SERVER_DEFAULT_USER.secretAccessKey }))
    addUser(id, u);
  const issued = new Map<string, StsIssuedCredentials>();
  const issuedList: StsIssuedCredentials[] = [];
  const authMessages = new Map<string, string>();
  const requests: StsRequestRecord[] = [];
  const counts: Record<string, number> = { total: 0 };
  const queue: StsFault[] = [];
  let rate: { rate: number; fault: StsFault; random: () => number } | undefined;

  const userOf = (id: string, u: StsServerUser): Caller => {
    const acct = u.account ?? account;
    return {
      accessKeyId: id,
      account: acct,
      arn: u.arn ?? `arn:aws:iam::${acct}:user/${id}`,
      userId: u.userId ?? `AIDA${id.slice(-16).toUpperCase().padStart(16, 'X')}`,
      kind: 'user',
    };
  };

  function takeFault(action: string | undefined): StsFault | undefined {
    const i = queue.findIndex((f) => f.action === undefined || f.action === action);
    if (i >= 0) return queue.splice(i, 1)[0];
    if (rate && (rate.fault.action === undefined || rate.fault.action === action) && rate.random() < rate.rate) return rate.fault;
    return undefined;
  }

  function issue(kind: StsIssuedCredentials['kind'], durationSeconds: number, who: { arn: string; userId: string; account: string }, nowMs: number) {
    const creds: StsIssuedCredentials = {
      accessKeyId: upperId('ASIA', 16),
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: `IQoJb3JpZ2luX2Vj${randomBytes(96).toString('base64')}`,
      expiresAtMs: Math.floor(nowMs / 1000) * 1000 + durationSeconds * 1000,
      kind,
      arn: who.arn,
      userId: who.userId,
      account: who.account,
    };
    issued.set(creds.accessKeyId, creds);
    issuedList.push(creds);
    return creds;
  }
  const credentialsXml = (c: StsIssuedCredentials) =>
    `<Credentials>${xml({
      AccessKeyId: c.accessKeyId,
      SecretAccessKey: c.secretAccessKey,
      SessionToken: c.sessionToken,
      Expiration: new Date(c.expiresAtMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    })}</Credentials>`;

  function duration(params: Record<string, string>, fallback: number, min: number, max: number): number {
    const raw = params.DurationSeconds;
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max)
      throw validation(`1 validation error detected: Value '${raw}' at 'durationSeconds' failed to satisfy constraint: Member must have value ${n < min ? `greater than or equal to ${min}` : `less than or equal to ${max}`}`);
    return n;
  }
  function required(params: Record<string, string>, name: string): string {
    const v = params[name];
    if (v === undefined || v === '')
      throw validation(`1 validation error detected: Value null at '${name[0]!.toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must not be null`);
    return v;
  }
  /** Session policies, tags and policy ARNs pack into 100%; over that is PackedPolicyTooLarge. */
  function packedPolicySize(params: Record<string, string>): number | undefined {
    const policy = params.Policy;
    if (policy !== undefined) {
      try {
        JSON.parse(policy);
      } catch {
        throw new StsReject(400, 'MalformedPolicyDocument', 'The policy is not in the valid JSON format.');
      }
    }
    const extras = Object.entries(params).filter(([k]) => k.startsWith('Tags.') || k.startsWith('PolicyArns.') || k === 'Policy');
    if (extras.length === 0) return undefined;
    const size = Math.ceil((extras.reduce((n, [k, v]) => n + k.length + v.length, 0) / 2048) * 100);
    if (size > 100) throw new StsReject(400, 'PackedPolicyTooLarge', `Packed size of consumed policies and tags exceeds ${size}% of the limit.`);
    return size;
  }
  function roleFor(roleArn: string, caller: Caller | undefined, action: string): { roleAccount: string; roleName: string; role: StsServerRole } {
    const m = ROLE_ARN.exec(roleArn);
    if (!m) throw validation(`${roleArn.length < 20 ? 'Value' : 'RoleArn'} is not a valid role ARN`);
    const role = options.roles ? options.roles[roleArn] : {};
    if (!role)
      throw new StsReject(403, 'AccessDenied', `User: ${caller?.arn ?? 'anonymous'} is not authorized to perform: sts:${action} on resource: ${roleArn}`);
    return { roleAccount: m[1]!, roleName: m[2]!, role };
  }
  function assumedRole(roleAccount: string, roleName: string, sessionName: string) {
    const roleId = `AROA${createStableId(roleAccount + roleName)}`;
    return { arn: `arn:aws:sts::${roleAccount}:assumed-role/${roleName}/${sessionName}`, userId: `${roleId}:${sessionName}`, account: roleAccount, roleId };
  }
  function checkMfa(params: Record<string, string>): void {
    const serial = params.SerialNumber;
    const code = params.TokenCode;
    if (serial === undefined && code === undefined) return;
    const expected = serial === undefined ? undefined : options.mfaTokenCodes?.[serial];
    if (serial === undefined || code === undefined || !/^\d{6}$/.test(code) || (expected !== undefined && expected !== code))
      throw new StsReject(403, 'AccessDenied', 'MultiFactorAuthentication failed with invalid MFA one time pass code.');
  }

  /** The body of a successful answer for one action. */
  function perform(action: string, params: Record<string, string>, caller: Caller | undefined, nowMs: number): string {
    switch (action) {
      case 'GetCallerIdentity':
        return xml({ Arn: caller!.arn, UserId: caller!.userId, Account: caller!.account });
      case 'GetAccessKeyInfo': {
        const id = required(params, 'AccessKeyId');
        const known = users.get(id);
        return xml({ Account: known ? (known.account ?? account) : (issued.get(id)?.account ?? account) });
      }
      case 'DecodeAuthorizationMessage': {
        const decoded = authMessages.get(required(params, 'EncodedMessage'));
        if (decoded === undefined) throw new StsReject(400, 'InvalidAuthorizationMessageException', 'Unable to decode the provided message.');
        return xml({ DecodedMessage: decoded });
      }
      case 'GetSessionToken': {
        if (caller!.kind !== 'user') throw new StsReject(403, 'AccessDenied', 'Cannot call GetSessionToken with session credentials');
        const seconds = duration(params, 43200, 900, 129600);
        checkMfa(params);
        return credentialsXml(issue('session', seconds, caller!, nowMs));
      }
      case 'GetFederationToken': {
        if (caller!.kind !== 'user') throw new StsReject(403, 'AccessDenied', 'Cannot call GetFederationToken with session credentials');
        const name = required(params, 'Name');
        const seconds = duration(params, 43200, 900, 129600);
        const size = packedPolicySize(params);
        const user = { arn: `arn:aws:sts::${caller!.account}:federated-user/${name}`, userId: `${caller!.account}:${name}`, account: caller!.account };
        const c = issue('federated', seconds, user, nowMs);
        return `${credentialsXml(c)}<FederatedUser>${xml({ Arn: user.arn, FederatedUserId: user.userId })}</FederatedUser>${xml({ PackedPolicySize: size })}`;
      }
      case 'AssumeRole':
      case 'AssumeRoleWithWebIdentity':
      case 'AssumeRoleWithSAML':
        return assume(action, params, caller, nowMs);
    }
    throw new StsReject(400, 'InvalidAction', `Could not find operation ${action} for version 2011-06-15`);
  }

  function assume(action: string, params: Record<string, string>, caller: Caller | undefined, nowMs: number): string {
    const roleArn = required(params, 'RoleArn');
    let sessionName: string;
    let extra = '';
    /** The assertion's `SessionNotOnOrAfter`: the session ends then if that comes before DurationSeconds. */
    let sessionNotOnOrAfterMs: number | undefined;
    if (action === 'AssumeRoleWithSAML') {
      required(params, 'PrincipalArn');
      const decoded = Buffer.from(required(params, 'SAMLAssertion'), 'base64').toString('utf8');
      if (!decoded.includes('<')) throw new StsReject(400, 'InvalidIdentityToken', 'Invalid base64 SAMLResponse (Service: AWSOpenIdDiscoveryService)');
      const notAfter = /SessionNotOnOrAfter="([^"]+)"/.exec(decoded)?.[1];
      if (notAfter !== undefined) {
        sessionNotOnOrAfterMs = Date.parse(notAfter);
        if (!(sessionNotOnOrAfterMs > nowMs)) throw new StsReject(400, 'ExpiredTokenException', 'Token expired: the SAML assertion session is no longer valid (SessionNotOnOrAfter)');
      }
      const pick = (tag: string) => new RegExp(`<(?:\\w+:)?${tag}[^>]*>([^<]*)<`).exec(decoded)?.[1];
      sessionName = pick('NameID') ?? 'saml-user';
      extra = xml({
        Subject: sessionName,
        SubjectType: 'persistent',
        Issuer: pick('Issuer') ?? 'https://idp.example.com/saml',
        Audience: pick('Audience') ?? 'https://signin.aws.amazon.com/saml',
        NameQualifier: createStableId(pick('Issuer') ?? 'issuer'),
      });
    } else {
      sessionName = required(params, 'RoleSessionName');
      if (action === 'AssumeRoleWithWebIdentity') {
        const verdict = (options.verifyWebIdentityToken ?? ((t) => decodeJwtClaims(t, nowMs)))(required(params, 'WebIdentityToken'), params.ProviderId);
        if ('error' in verdict) throw new StsReject(verdict.error === 'IDPRejectedClaim' ? 403 : 400, verdict.error, verdict.message);
        extra = xml({ SubjectFromWebIdentityToken: verdict.subject, Provider: params.ProviderId ?? verdict.provider, Audience: verdict.audience });
      }
    }
    const { roleAccount, roleName, role } = roleFor(roleArn, caller, action);
    if (role.externalId !== undefined && params.ExternalId !== role.externalId)
      throw new StsReject(403, 'AccessDenied', `User: ${caller?.arn ?? 'anonymous'} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`);
    const maxSession = role.maxSessionDurationSeconds ?? 3600;
    const seconds = duration(params, Math.min(3600, maxSession), 900, 43200);
    if (seconds > maxSession) throw validation('The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
    if (caller?.kind === 'assumed-role' && seconds > 3600)
      throw validation('The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.');
    if (action === 'AssumeRole') checkMfa(params);
    const size = packedPolicySize(params);
    const who = assumedRole(roleAccount, roleName, sessionName);
    const lifetimeSeconds = sessionNotOnOrAfterMs === undefined ? seconds : Math.min(seconds, Math.floor((sessionNotOnOrAfterMs - nowMs) / 1000));
    const c = issue('assumed-role', lifetimeSeconds, who, nowMs);
    return (
      `${credentialsXml(c)}<AssumedRoleUser>${xml({ AssumedRoleId: who.userId, Arn: who.arn })}</AssumedRoleUser>` +
      xml({ PackedPolicySize: size, SourceIdentity: params.SourceIdentity }) +
      extra
    );
  }

  /** Checks the signature and who signed; returns the caller, or throws the STS rejection. */
  function authenticate(req: IncomingMessage, body: Buffer, record: StsRequestRecord, nowMs: number): Caller | undefined {
    const header = req.headers.authorization;
    if (!header) return undefined;
    record.signed = true;
    let auth;
    try {
      auth = parseAuthorization(header);
    } catch (e) {
      throw new StsReject(400, (e as SigV4Failure).code, (e as Error).message);
    }
    record.accessKeyId = auth.accessKeyId;
    record.signingRegion = auth.region;
    const amzDate = (req.headers['x-amz-date'] as string | undefined) ?? '';
    const signedAt = parseAmzDate(amzDate);
    if (Number.isNaN(signedAt))
      throw new StsReject(400, 'IncompleteSignature', `Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.`);
    if (signedAt < nowMs - maxAgeMs)
      throw new StsReject(403, 'SignatureDoesNotMatch', `Signature expired: ${amzDate} is now earlier than ${formatAmzDate(nowMs - maxAgeMs)} (${formatAmzDate(nowMs)} - 15 min.)`);
    if (signedAt > nowMs + maxAgeMs)
      throw new StsReject(403, 'SignatureDoesNotMatch', `Signature not yet current: ${amzDate} is still later than ${formatAmzDate(nowMs + maxAgeMs)} (${formatAmzDate(nowMs)} + 15 min.)`);

    const user = users.get(auth.accessKeyId);
    const temp = user ? undefined : issued.get(auth.accessKeyId);
    const token = req.headers['x-amz-security-token'];
    if (!user && !temp) throw new StsReject(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
    if (temp && token !== temp.sessionToken) throw new StsReject(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
    if (user && token !== undefined) throw new StsReject(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
    if (temp && temp.expiresAtMs <= nowMs) throw new StsReject(400, 'ExpiredToken', 'The security token included in the request is expired');
    if (options.region && auth.region !== options.region)
      throw new StsReject(403, 'SignatureDoesNotMatch', `Credential should be scoped to a valid region, not '${auth.region}'.`);
    try {
      verifySignature(req, body, auth, amzDate, (user ?? temp)!.secretAccessKey);
    } catch (e) {
      if (e instanceof SigV4Failure) throw new StsReject(e.code === 'XAmzContentSHA256Mismatch' ? 400 : 403, e.code, e.message);
      throw e;
    }
    record.signatureValid = true;
    return user ? userOf(auth.accessKeyId, user) : { ...temp!, kind: temp!.kind };
  }

  function send(res: ServerResponse, record: StsRequestRecord, status: number, body: string, nowMs: number, contentType = 'text/xml') {
    record.status = status;
    res.writeHead(status, {
      'content-type': contentType,
      'x-amzn-requestid': record.requestId,
      date: new Date(nowMs).toUTCString(),
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  }
  function sendError(res: ServerResponse, record: StsRequestRecord, e: StsReject, nowMs: number) {
    record.errorCode = e.code;
    const body =
      `<ErrorResponse xmlns="${NS}"><Error>${xml({ Type: e.type, Code: e.code, Message: e.message })}</Error>` +
      `<RequestId>${record.requestId}</RequestId></ErrorResponse>\n`;
    send(res, record, e.status, body, nowMs);
  }

  async function handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const params: Record<string, string> = Object.fromEntries(url.searchParams);
    if (req.method === 'POST') Object.assign(params, Object.fromEntries(new URLSearchParams(body.toString('utf8'))));
    const action = params.Action;
    const record: StsRequestRecord = {
      action,
      params,
      body: body.toString('utf8'),
      headers: req.headers,
      method: req.method ?? '',
      signed: false,
      accessKeyId: undefined,
      signingRegion: undefined,
      signatureValid: false,
      status: undefined,
      errorCode: undefined,
      fault: undefined,
      requestId: randomUUID(),
    };
    requests.push(record);
    counts.total = (counts.total ?? 0) + 1;
    if (action) counts[action] = (counts[action] ?? 0) + 1;

    let nowMs = now();
    const fault = takeFault(action);
    record.fault = fault?.kind;
    if (fault) {
      switch (fault.kind) {
        case 'throttle':
          return sendError(res, record, new StsReject(400, 'Throttling', 'Rate exceeded'), nowMs);
        case 'error':
          return sendError(res, record, new StsReject(fault.status, fault.code, fault.message ?? fault.code, fault.type), nowMs);
        case 'server-error':
          return sendError(res, record, new StsReject(fault.status ?? 500, 'InternalFailure', 'An internal error occurred.'), nowMs);
        case 'non-xml':
          return send(res, record, fault.status ?? 502, '<html><body><h1>502 Bad Gateway</h1></body></html>', nowMs, 'text/html');
        case 'empty':
          return send(res, record, fault.status ?? 200, '', nowMs);
        case 'hang':
          return;
        case 'reset':
          req.socket.destroy();
          return;
        case 'delay':
          await new Promise((r) => setTimeout(r, fault.ms));
          if (res.destroyed || req.socket.destroyed) return;
          nowMs = now();
          break;
        case 'skew':
          nowMs += fault.offsetMs;
          break;
        case 'truncate':
          break;
      }
    }

    try {
      if (!action) throw new StsReject(400, 'MissingAction', 'Missing Action');
      if (params.Version !== '2011-06-15') throw new StsReject(400, 'InvalidAction', `Could not find operation ${action} for version ${params.Version ?? 'NO_VERSION_SPECIFIED'}`);
      const caller = UNSIGNED_ACTIONS.has(action) ? undefined : authenticate(req, body, record, nowMs);
      if (!caller && ACTIONS.has(action) && !UNSIGNED_ACTIONS.has(action))
        throw new StsReject(403, 'MissingAuthenticationToken', 'Request is missing Authentication Token');
      const result = perform(action, params, caller, nowMs);
      let doc =
        `<${action}Response xmlns="${NS}">\n  <${action}Result>${result}</${action}Result>\n` +
        `  <ResponseMetadata><RequestId>${record.requestId}</RequestId></ResponseMetadata>\n</${action}Response>\n`;
      if (fault?.kind === 'truncate') doc = doc.slice(0, Math.floor(doc.length / 2));
      send(res, record, 200, doc, nowMs);
    } catch (e) {
      if (!(e instanceof StsReject)) throw e;
      sendError(res, record, e, nowMs);
    }
  }

  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks)).catch((e: unknown) => {
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`local STS server bug: ${(e as Error).message}`);
        }
      });
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    get counts() {
      return { ...counts };
    },
    issued: issuedList,
    inject: (...faults) => void queue.push(...faults),
    setFaultRate(r, fault, random = Math.random) {
      rate = r > 0 ? { rate: r, fault, random } : undefined;
    },
    clearFaults() {
      queue.length = 0;
      rate = undefined;
    },
    addUser,
    encodeAuthorizationMessage(decoded) {
      const encoded = randomBytes(48).toString('base64url');
      authMessages.set(encoded, decoded);
      return encoded;
    },
    clearLog() {
      requests.length = 0;
      for (const k of Object.keys(counts)) delete counts[k];
      counts.total = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A stable 17-character upper-case id for a name (role ids stay the same across sessions). */
function createStableId(seed: string): string {
  let h = 2166136261;
  let out = '';
  for (let i = 0; out.length < 17; i++) {
    h = Math.imul(h ^ seed.charCodeAt(i % Math.max(1, seed.length)) ^ i, 16777619) >>> 0;
    out += (h % 36).toString(36).toUpperCase();
  }
  return out;
}
