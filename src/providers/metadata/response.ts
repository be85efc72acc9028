import { makeCredentials, type Credentials } from '../../credentials.js';
import { MetadataResponseError } from './errors.js';

/** Largest metadata answer we read; real ones are about 1.3 KiB. */
export const METADATA_MAX_BODY_BYTES = 64 * 1024;

export interface CredentialsAnswer {
  providerName: string;
  /** `GET /path`, used in error messages. */
  request: string;
  status: number;
  body: string;
}

const REQUIRED_FIELDS = ['AccessKeyId', 'SecretAccessKey', 'Token', 'Expiration'] as const;

/**
 * Turns the JSON document that IMDS and the container endpoints both serve (`Code`, `AccessKeyId`,
 * `SecretAccessKey`, `Token`, `Expiration`, `AccountId`) into credentials. Errors name the field at
 * fault, never its value, except for `Code` and `Expiration`, which hold no secret.
 */
export function parseCredentialsAnswer(answer: CredentialsAnswer): Credentials {
  const { providerName, request, status } = answer;
  const fail = (what: string) =>
    new MetadataResponseError(`${providerName}: ${request} answered ${status} with ${what}`, { providerName, request, status });

  let doc: unknown;
  try {
    doc = JSON.parse(answer.body);
  } catch {
    throw fail('a body that is not JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw fail('JSON that is not an object');
  const fields = doc as Record<string, unknown>;

  if (fields.Code !== undefined && fields.Code !== 'Success') {
    throw fail(`Code ${quoteHarmless(fields.Code)} instead of "Success"`);
  }
  const missing = REQUIRED_FIELDS.filter((key) => typeof fields[key] !== 'string' || fields[key] === '');
  if (missing.length > 0) throw fail(`no usable ${missing.join(', ')} (each must be a non-empty string)`);

  const expirationText = fields.Expiration as string;
  const expiration = new Date(expirationText);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(expirationText) || Number.isNaN(expiration.getTime())) {
    throw fail(`an Expiration that is not an ISO 8601 date-time: ${quoteHarmless(expirationText)}`);
  }
  const accountId = typeof fields.AccountId === 'string' && fields.AccountId !== '' ? fields.AccountId : undefined;
  return makeCredentials({
    accessKeyId: fields.AccessKeyId as string,
    secretAccessKey: fields.SecretAccessKey as string,
    sessionToken: fields.Token as string,
    expiration,
    ...(accountId !== undefined ? { accountId } : {}),
  });
}

/** Quotes a non-secret field for an error message, cut short and stripped of control characters. */
function quoteHarmless(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, '?');
  return JSON.stringify(clean.length > 40 ? `${clean.slice(0, 40)}…` : clean);
}
