import { makeCredentials, type CredentialProvider, type Credentials } from '../credentials.js';
import { CredentialsError } from '../errors.js';
import { named } from '../provider.js';

export interface StaticCredentialsInput {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
  accountId?: string;
}

/** Fixed credentials. Checked when created, so a typo fails at start-up rather than at the first request. */
export function fromStatic(input: StaticCredentialsInput): CredentialProvider {
  const fail = (what: string) => new CredentialsError(`fromStatic(): ${what}`, { providerName: 'static' });
  if (input === null || typeof input !== 'object') throw fail('expects an object with accessKeyId and secretAccessKey');
  for (const key of ['accessKeyId', 'secretAccessKey'] as const) {
    if (typeof input[key] !== 'string' || input[key].trim() === '') throw fail(`${key} is missing or empty`);
  }
  for (const key of ['sessionToken', 'accountId'] as const) {
    const value = input[key];
    if (value !== undefined && (typeof value !== 'string' || value.trim() === '')) {
      throw fail(`${key}, when given, must be a non-empty string`);
    }
  }
  if (input.expiration !== undefined && !(input.expiration instanceof Date && !Number.isNaN(input.expiration.getTime()))) {
    throw fail('expiration, when given, must be a valid Date');
  }
  const credentials: Credentials = makeCredentials(input);
  return named('static', () => Promise.resolve(credentials));
}
