import { makeCredentials, type Credentials } from '../credentials.js';
import type { StsOperationName, StsOutput } from './types.js';
import { readXml, XmlReadError, type XmlNode } from './xml-reader.js';

export type ParsedResponse =
  | { kind: 'result'; result: XmlNode; requestId: string | undefined }
  | { kind: 'error'; code: string; message: string; type: string | undefined; requestId: string | undefined };

/** Why a body could not be read, worded for an error message; never includes the body. */
export class UnreadableBody extends Error {}

const asNode = (v: unknown): XmlNode | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as XmlNode) : undefined);
const asText = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * Parses an STS response body: `<{Action}Response><{Action}Result>…` or
 * `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>`.
 * Throws `UnreadableBody` for empty, non-XML, truncated or unexpected documents.
 */
export async function parseStsXml(body: string, action: string): Promise<ParsedResponse> {
  if (body.trim() === '') throw new UnreadableBody('the response body was empty');
  let doc: XmlNode;
  try {
    // Strict: a truncated or otherwise incomplete document is refused here, not read in part.
    doc = readXml(body);
  } catch (error) {
    if (!(error instanceof XmlReadError)) throw error;
    // The reader's reasons are fixed phrases, never text from the body.
    throw new UnreadableBody(`the response body is not well-formed XML (truncated or not XML): ${error.message}`);
  }

  const errorDoc = asNode(doc.ErrorResponse) ?? asNode(doc.Response);
  if (errorDoc) {
    const error = asNode(errorDoc.Error) ?? asNode(asNode(errorDoc.Errors)?.Error);
    const code = asText(error?.Code);
    if (!error || !code) throw new UnreadableBody('the error response has no Error/Code element');
    return {
      kind: 'error',
      code,
      message: asText(error.Message) ?? '(no message)',
      type: asText(error.Type),
      requestId: asRequestId(asText(errorDoc.RequestId) ?? asText(errorDoc.RequestID)),
    };
  }
  const response = asNode(doc[`${action}Response`]);
  if (!response) throw new UnreadableBody(`the response has no ${action}Response element`);
  // An operation with no output fields (none in STS today) may omit the Result element.
  const result = asNode(response[`${action}Result`]) ?? {};
  return { kind: 'result', result, requestId: asRequestId(asText(asNode(response.ResponseMetadata)?.RequestId)) };
}

function toDate(text: string | undefined, field: string): Date {
  const d = text === undefined ? new Date(NaN) : new Date(text);
  if (Number.isNaN(d.getTime())) throw new UnreadableBody(`the response has no valid ${field}`);
  return d;
}
const toInt = (text: string | undefined): number | undefined => {
  if (text === undefined || text === '') return undefined;
  if (!/^\d+$/.test(text.trim())) throw new UnreadableBody('the response has a number field that is not a number');
  return Number(text);
};
function required(node: XmlNode | undefined, name: string, where: string): string {
  const v = asText(node?.[name]);
  if (v === undefined) throw new UnreadableBody(`the response has no ${where}${name}`);
  return v;
}

/** `arn:aws:sts::123456789012:assumed-role/…` → `123456789012`. */
export function accountIdFromArn(arn: string | undefined): string | undefined {
  const account = arn?.split(':')[4];
  return account && /^\d{12}$/.test(account) ? account : undefined;
}

function credentialsOf(result: XmlNode, accountId: string | undefined): Credentials {
  const c = asNode(result.Credentials);
  if (!c) throw new UnreadableBody('the response has no Credentials');
  return makeCredentials({
    accessKeyId: required(c, 'AccessKeyId', 'Credentials.'),
    secretAccessKey: required(c, 'SecretAccessKey', 'Credentials.'),
    sessionToken: required(c, 'SessionToken', 'Credentials.'),
    expiration: toDate(asText(c.Expiration), 'Credentials.Expiration'),
    ...(accountId ? { accountId } : {}),
  });
}

/** Drops undefined members so results print and compare cleanly. */
function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

function roleResult(r: XmlNode, requestId: string) {
  const user = asNode(r.AssumedRoleUser);
  const arn = required(user, 'Arn', 'AssumedRoleUser.');
  return {
    requestId,
    credentials: credentialsOf(r, accountIdFromArn(arn)),
    assumedRoleUser: { arn, assumedRoleId: required(user, 'AssumedRoleId', 'AssumedRoleUser.') },
    packedPolicySize: toInt(asText(r.PackedPolicySize)),
    sourceIdentity: asText(r.SourceIdentity),
    sessionTokenUtilization: toInt(asText(r.SessionTokenUtilization)),
    sessionTokenSize: toInt(asText(r.SessionTokenSize)),
  };
}
function tokenResult(r: XmlNode, requestId: string, accountId?: string) {
  return {
    requestId,
    credentials: credentialsOf(r, accountId),
    sessionTokenUtilization: toInt(asText(r.SessionTokenUtilization)),
    sessionTokenSize: toInt(asText(r.SessionTokenSize)),
  };
}

const FROM_WIRE: { [Op in StsOperationName]: (r: XmlNode, requestId: string) => StsOutput<Op> } = {
  assumeRole: (r, id) => roleResult(r, id),
  assumeRoleWithSAML: (r, id) => ({
    ...roleResult(r, id),
    subject: asText(r.Subject),
    subjectType: asText(r.SubjectType),
    issuer: asText(r.Issuer),
    audience: asText(r.Audience),
    nameQualifier: asText(r.NameQualifier),
  }),
  assumeRoleWithWebIdentity: (r, id) => ({
    ...roleResult(r, id),
    subjectFromWebIdentityToken: asText(r.SubjectFromWebIdentityToken),
    provider: asText(r.Provider),
    audience: asText(r.Audience),
  }),
  getSessionToken: (r, id) => tokenResult(r, id),
  getFederationToken: (r, id) => {
    const user = asNode(r.FederatedUser);
    const arn = required(user, 'Arn', 'FederatedUser.');
    return {
      ...tokenResult(r, id, accountIdFromArn(arn)),
      federatedUser: { arn, federatedUserId: required(user, 'FederatedUserId', 'FederatedUser.') },
      packedPolicySize: toInt(asText(r.PackedPolicySize)),
    };
  },
  getCallerIdentity: (r, id) => ({
    requestId: id,
    userId: required(r, 'UserId', ''),
    account: required(r, 'Account', ''),
    arn: required(r, 'Arn', ''),
  }),
  decodeAuthorizationMessage: (r, id) => ({ requestId: id, decodedMessage: required(r, 'DecodedMessage', '') }),
  getAccessKeyInfo: (r, id) => ({ requestId: id, account: required(r, 'Account', '') }),
};

/** The camelCase result of an operation from its `…Result` element. Throws `UnreadableBody` when fields are missing. */
export function toOutput<Op extends StsOperationName>(op: Op, result: XmlNode, requestId: string): StsOutput<Op> {
  return compact((FROM_WIRE[op] as (r: XmlNode, id: string) => StsOutput<Op>)(result, requestId));
}

/**
 * A request id goes into error messages and logs, so only something shaped like one is kept (STS
 * uses UUIDs): a damaged or hostile body cannot smuggle markup or other text in through it.
 */
export function asRequestId(text: string | undefined): string | undefined {
  return text !== undefined && /^[A-Za-z0-9+/=_-]{1,128}$/.test(text) ? text : undefined;
}
