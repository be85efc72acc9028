import { createHash, createHmac } from 'node:crypto';

/**
 * Cache keys of the on-disk session cache.
 *
 * Assume-role entries use the AWS CLI's own file name, so the AWS CLI (v1 and v2, both through
 * botocore's `AssumeRoleCredentialFetcher._create_cache_key`) and credchain find each other's
 * sessions: the AssumeRole arguments as botocore names them, the generated session name left out,
 * an inline policy parsed, serialised like Python's `json.dumps(args, sort_keys=True)` (default
 * separators `", "` and `": "`, non-ASCII escaped), SHA-1 hex, made file-safe. That name covers
 * neither the caller nor the endpoint, so every entry we write also carries `CredchainSource`, a
 * keyed digest of the whole source identity (see `sourceDigest`), which must match before we use it.
 */

/** Python's `json.dumps(value, sort_keys=True)` with its default separators and `ensure_ascii=True`. */
export function pythonJsonDumps(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(pythonJsonDumps).join(', ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${pythonJsonDumps(k)}: ${pythonJsonDumps(v)}`).join(', ')}}`;
  }
  throw new TypeError(`cannot serialise a ${typeof value}`);
}

/** The AssumeRole arguments that go into the AWS CLI's key, in botocore's names. */
export interface CliAssumeRoleArgs {
  readonly roleArn: string;
  /** Only a session name that was configured: botocore leaves its generated one out of the key. */
  readonly roleSessionName?: string;
  readonly externalId?: string;
  readonly serialNumber?: string;
  readonly durationSeconds?: number;
  readonly policy?: string;
  readonly policyArns?: readonly { readonly arn: string }[];
  readonly tags?: readonly { readonly key: string; readonly value: string }[];
  readonly transitiveTagKeys?: readonly string[];
  readonly sourceIdentity?: string;
}

/** botocore's `_make_file_safe`: `:` and path separators become `_`. */
function fileSafe(name: string): string {
  return name.replace(/[:/\\]/g, '_');
}

/** The AWS CLI's cache file name (without `.json`) for an AssumeRole with these arguments. */
export function cliAssumeRoleKey(args: CliAssumeRoleArgs): string {
  let policy: unknown = args.policy;
  if (args.policy !== undefined) {
    try {
      policy = JSON.parse(args.policy);
    } catch {
      // botocore would fail here; a policy STS will refuse anyway keeps its text.
    }
  }
  const kwargs = {
    RoleArn: args.roleArn,
    RoleSessionName: args.roleSessionName,
    ExternalId: args.externalId,
    SerialNumber: args.serialNumber,
    DurationSeconds: args.durationSeconds,
    Policy: policy,
    PolicyArns: args.policyArns?.map((p) => ({ arn: p.arn })),
    Tags: args.tags?.map((t) => ({ Key: t.key, Value: t.value })),
    TransitiveTagKeys: args.transitiveTagKeys,
    SourceIdentity: args.sourceIdentity,
  };
  return fileSafe(createHash('sha1').update(pythonJsonDumps(kwargs), 'utf8').digest('hex'));
}

/**
 * HMAC-SHA-256 (hex) of the source identity (operation, endpoint, region, the caller's access key
 * id, secret access key and session token, every parameter) under the cache directory's random salt.
 * A session is used only by a caller whose digest matches: it never crosses identities. The salt
 * keeps the digest from being checked against a guessed secret by anyone who has a cache file but
 * not the salt file.
 */
export function sourceDigest(salt: Buffer, identity: readonly unknown[]): string {
  return createHmac('sha256', salt).update(JSON.stringify(identity)).digest('hex');
}

/** File name (without `.json`) of an entry only credchain writes (GetSessionToken, credential_process). */
export function ownKey(salt: Buffer, kind: 'session-token' | 'process', identity: readonly unknown[]): string {
  return `credchain-${kind}-${createHmac('sha256', salt).update(JSON.stringify(['file', kind, ...identity])).digest('hex').slice(0, 40)}`;
}
