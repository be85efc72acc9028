/** The credential shape every provider returns; assignable to AWS SDK v3's `AwsCredentialIdentity`. */
export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
  readonly accountId?: string;
}

/** A function that resolves credentials; assignable to AWS SDK v3's `AwsCredentialIdentityProvider`. */
export type CredentialProvider = () => Promise<Credentials>;

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/** `AKIAIOSFODNN7EXAMPLE` -> `****MPLE`: enough to tell keys apart, never enough to use one. */
export function maskAccessKeyId(accessKeyId: string): string {
  return `****${accessKeyId.slice(-4)}`;
}

/**
 * A URL (or text meant as one, parsed or not) as it may be printed: any user-info is replaced by
 * `****`, so `https://user:pass@host/x` prints as `https://****@host/x`. Everything else is kept.
 */
export function maskUrl(url: string | URL): string {
  const text = String(url);
  // With `//`: the authority runs to the first `/`, `?` or `#`; user-info is everything in it up to its last `@`.
  if (text.includes('//')) return text.replace(/\/\/[^/?#\s]*@/g, '//****@');
  // Without (`user:pass@host`, a URL missing its scheme): the same rule from the start of the text.
  return text.replace(/^[^/?#\s]*@/, '****@');
}

/** The printable, secret-free view of a credentials object. */
export function maskedView(c: Credentials): Record<string, string | undefined> {
  return {
    accessKeyId: maskAccessKeyId(c.accessKeyId),
    secretAccessKey: '****',
    sessionToken: c.sessionToken === undefined ? undefined : '****',
    expiration: c.expiration?.toISOString(),
    accountId: c.accountId,
  };
}

/**
 * Builds the credentials object we hand out. Fields are plain (SDKs read them directly); the
 * printing paths (`util.inspect`, `String()`, template literals, `JSON.stringify`) are overridden
 * by non-enumerable methods so a stray log line never shows the secret key or the session token.
 */
export function makeCredentials(input: Credentials): Credentials {
  const out: Credentials = {
    accessKeyId: input.accessKeyId,
    secretAccessKey: input.secretAccessKey,
    ...(input.sessionToken !== undefined ? { sessionToken: input.sessionToken } : {}),
    ...(input.expiration !== undefined ? { expiration: input.expiration } : {}),
    ...(input.accountId !== undefined ? { accountId: input.accountId } : {}),
  };
  const describe = () => `Credentials ${JSON.stringify(maskedView(out))}`;
  Object.defineProperties(out, {
    toJSON: { value: () => maskedView(out), enumerable: false },
    toString: { value: describe, enumerable: false },
    [Symbol.toPrimitive]: { value: describe, enumerable: false },
    [INSPECT]: { value: () => maskedView(out), enumerable: false },
  });
  return out;
}

/** True when the credentials carry an expiration at or before `nowMs`. */
export function isExpired(c: Credentials, nowMs: number): boolean {
  return c.expiration !== undefined && c.expiration.getTime() <= nowMs;
}
