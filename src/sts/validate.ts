import { StsValidationError } from './errors.js';
import { OPERATIONS, type StsInput, type StsOperationName } from './types.js';

/** A check returns the broken rule, or undefined when the value is fine. */
type Check = (value: unknown) => string | undefined;

interface TextRule {
  min: number;
  max: number;
  pattern?: RegExp;
  /** How the pattern reads in an error message. */
  allowed?: string;
}

function text({ min, max, pattern, allowed }: TextRule): Check {
  return (v) => {
    if (typeof v !== 'string') return `must be a string`;
    if (v.length < min || v.length > max)
      return min === max ? `must be exactly ${min} characters (got ${v.length})` : `must be ${min}–${max} characters (got ${v.length})`;
    if (pattern && !pattern.test(v)) return `may contain only ${allowed}`;
    return undefined;
  };
}

function integer(min: number, max: number): Check {
  return (v) => (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? undefined : `must be an integer from ${min} to ${max}`);
}

// Patterns and limits as the STS API reference states them.
const ARN = text({ min: 20, max: 2048 });
const SESSION_NAME = text({ min: 2, max: 64, pattern: /^[\w+=,.@-]*$/, allowed: 'letters, digits and _+=,.@-' });
const POLICY = text({ min: 1, max: 2048, pattern: /^[\u0009\u000A\u000D\u0020-\u00FF]+$/, allowed: 'tab, newline and characters U+0020–U+00FF' });
const TAG_CHARS = { pattern: /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u, allowed: 'letters, spaces, digits and _.:/=+-@' };
const TAG_KEY = text({ min: 1, max: 128, ...TAG_CHARS });
const TAG_VALUE = text({ min: 0, max: 256, ...TAG_CHARS });
const ROLE_DURATION = integer(900, 43200);
const TOKEN_DURATION = integer(900, 129600);
const EXTERNAL_ID = text({ min: 2, max: 1224, pattern: /^[\w+=,.@:/-]*$/, allowed: 'letters, digits and _+=,.@:/-' });
const SERIAL_NUMBER = text({ min: 9, max: 256, pattern: /^[\w+=/:,.@-]*$/, allowed: 'letters, digits and _+=/:,.@-' });
const TOKEN_CODE = text({ min: 6, max: 6, pattern: /^\d*$/, allowed: 'digits' });
const SOURCE_IDENTITY = text({ min: 2, max: 64, pattern: /^[\w+=,.@-]*$/, allowed: 'letters, digits and _+=,.@-' });
const FEDERATION_NAME = text({ min: 2, max: 32, pattern: /^[\w+=,.@-]*$/, allowed: 'letters, digits and _+=,.@-' });
const TOKEN_SIZE = integer(0, Number.MAX_SAFE_INTEGER);

interface ListRule {
  max: number;
  /** Checks for each item's members, keyed by camelCase member name (wire name used in messages). */
  item: Check | Record<string, [wireName: string, check: Check, required: boolean]>;
}

type ParamRule = { wire: string; required?: boolean; check?: Check; list?: ListRule };

const POLICY_ARNS: ParamRule = { wire: 'PolicyArns', list: { max: 10, item: { arn: ['arn', ARN, true] } } };
const TAGS: ParamRule = {
  wire: 'Tags',
  list: { max: 50, item: { key: ['Key', TAG_KEY, true], value: ['Value', TAG_VALUE, true] } },
};
const SESSION_POLICY = {
  policyArns: POLICY_ARNS,
  policy: { wire: 'Policy', check: POLICY },
  minimumSessionTokenSize: { wire: 'MinimumSessionTokenSize', check: TOKEN_SIZE },
};

const RULES: { [Op in StsOperationName]: { [K in keyof Required<StsInput<Op>>]: ParamRule } } = {
  assumeRole: {
    roleArn: { wire: 'RoleArn', required: true, check: ARN },
    roleSessionName: { wire: 'RoleSessionName', required: true, check: SESSION_NAME },
    ...SESSION_POLICY,
    durationSeconds: { wire: 'DurationSeconds', check: ROLE_DURATION },
    tags: TAGS,
    transitiveTagKeys: { wire: 'TransitiveTagKeys', list: { max: 50, item: TAG_KEY } },
    externalId: { wire: 'ExternalId', check: EXTERNAL_ID },
    serialNumber: { wire: 'SerialNumber', check: SERIAL_NUMBER },
    tokenCode: { wire: 'TokenCode', check: TOKEN_CODE },
    sourceIdentity: { wire: 'SourceIdentity', check: SOURCE_IDENTITY },
    providedContexts: {
      wire: 'ProvidedContexts',
      list: {
        max: 5,
        item: {
          providerArn: ['ProviderArn', ARN, true],
          contextAssertion: ['ContextAssertion', text({ min: 4, max: 2048 }), true],
        },
      },
    },
  },
  assumeRoleWithSAML: {
    roleArn: { wire: 'RoleArn', required: true, check: ARN },
    principalArn: { wire: 'PrincipalArn', required: true, check: ARN },
    samlAssertion: { wire: 'SAMLAssertion', required: true, check: text({ min: 4, max: 100000 }) },
    ...SESSION_POLICY,
    durationSeconds: { wire: 'DurationSeconds', check: ROLE_DURATION },
  },
  assumeRoleWithWebIdentity: {
    roleArn: { wire: 'RoleArn', required: true, check: ARN },
    roleSessionName: { wire: 'RoleSessionName', required: true, check: SESSION_NAME },
    webIdentityToken: { wire: 'WebIdentityToken', required: true, check: text({ min: 4, max: 20000 }) },
    providerId: { wire: 'ProviderId', check: text({ min: 4, max: 2048 }) },
    ...SESSION_POLICY,
    durationSeconds: { wire: 'DurationSeconds', check: ROLE_DURATION },
  },
  getSessionToken: {
    durationSeconds: { wire: 'DurationSeconds', check: TOKEN_DURATION },
    serialNumber: { wire: 'SerialNumber', check: SERIAL_NUMBER },
    tokenCode: { wire: 'TokenCode', check: TOKEN_CODE },
    minimumSessionTokenSize: { wire: 'MinimumSessionTokenSize', check: TOKEN_SIZE },
  },
  getFederationToken: {
    name: { wire: 'Name', required: true, check: FEDERATION_NAME },
    ...SESSION_POLICY,
    durationSeconds: { wire: 'DurationSeconds', check: TOKEN_DURATION },
    tags: TAGS,
  },
  getCallerIdentity: {},
  decodeAuthorizationMessage: {
    encodedMessage: { wire: 'EncodedMessage', required: true, check: text({ min: 1, max: 10240 }) },
  },
  getAccessKeyInfo: {
    accessKeyId: { wire: 'AccessKeyId', required: true, check: text({ min: 16, max: 128, pattern: /^\w*$/, allowed: 'letters, digits and _' }) },
  },
};

function checkList(operation: string, rule: ParamRule & { list: ListRule }, value: unknown): void {
  const fail = (parameter: string, why: string) => {
    throw new StsValidationError(operation, parameter, why);
  };
  if (!Array.isArray(value)) fail(rule.wire, 'must be a list');
  const list = value as unknown[];
  if (list.length > rule.list.max) fail(rule.wire, `at most ${rule.list.max} items (got ${list.length})`);
  list.forEach((item, i) => {
    const at = `${rule.wire}[${i}]`;
    if (typeof rule.list.item === 'function') {
      const why = rule.list.item(item);
      if (why) fail(at, why);
      return;
    }
    if (typeof item !== 'object' || item === null) fail(at, 'must be an object');
    for (const [member, [wireName, check, required]] of Object.entries(rule.list.item)) {
      const v = (item as Record<string, unknown>)[member];
      if (v === undefined) {
        if (required) fail(`${at}.${wireName}`, 'is required');
        continue;
      }
      const why = check(v);
      if (why) fail(`${at}.${wireName}`, why);
    }
  });
}

/**
 * Checks an operation's input against the documented STS rules; throws `StsValidationError` naming
 * the first broken parameter and rule. Unknown members are rejected too: a typo (`roleARN`) would
 * otherwise be dropped silently and STS would answer with a less helpful error.
 */
export function validateInput<Op extends StsOperationName>(op: Op, input: StsInput<Op> | undefined): void {
  const operation = OPERATIONS[op].action;
  const rules = RULES[op] as Record<string, ParamRule>;
  const given = (input ?? {}) as Record<string, unknown>;
  if (typeof given !== 'object') throw new StsValidationError(operation, 'input', 'must be an object');
  for (const key of Object.keys(given)) {
    if (!Object.hasOwn(rules, key) && given[key] !== undefined) throw new StsValidationError(operation, key, `is not a parameter of ${operation}`);
  }
  for (const [key, rule] of Object.entries(rules)) {
    const value = given[key];
    if (value === undefined) {
      if (rule.required) throw new StsValidationError(operation, rule.wire, 'is required');
      continue;
    }
    if (rule.list) checkList(operation, rule as ParamRule & { list: ListRule }, value);
    else {
      const why = rule.check?.(value);
      if (why) throw new StsValidationError(operation, rule.wire, why);
    }
  }
}
