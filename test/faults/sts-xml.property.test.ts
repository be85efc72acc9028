import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialsError } from '../../src/errors.js';
import { StsClient, StsError } from '../../src/sts/index.js';
import type { StsInput, StsOperationName } from '../../src/sts/types.js';
import { parseStsXml, toOutput, UnreadableBody } from '../../src/sts/xml.js';
import { startStsServer, STS_SERVER_DEFAULT_USER, type StsServer } from '../../src/testing/sts-server.js';

/**
 * Property-based tests of STS response parsing. Real responses are recorded from the local STS
 * (through a recording proxy, so they are byte for byte what a client receives), then truncated
 * and mutated at random. Each result must be a correct parse or a clear error of ours: never a
 * crash (TypeError, SyntaxError...), and never a secret or the body in the message.
 */

const ROLE_ARN = 'arn:aws:iam::111122223333:role/deploy';
const SAML = Buffer.from(
  '<samlp:Response><saml:Issuer>https://idp.example.com/metadata</saml:Issuer><saml:Assertion>' +
    '<saml:Subject><saml:NameID>alice@example.com</saml:NameID></saml:Subject></saml:Assertion></samlp:Response>',
).toString('base64');
const jwt = (claims: Record<string, unknown>) =>
  [{ alg: 'RS256' }, claims].map((o) => Buffer.from(JSON.stringify(o)).toString('base64url')).join('.') + '.c2ln';

interface Recorded {
  /** A label for failure messages, e.g. `AssumeRole` or `ErrorResponse(Throttling)`. */
  label: string;
  op: StsOperationName;
  action: string;
  input: unknown;
  status: number;
  body: string;
}

/** A loopback server that either forwards to the local STS and records the answer, or serves a set body. */
async function startProxy(target: string) {
  let serve: { status: number; body: string } | undefined;
  const answers: { status: number; body: string }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (serve) {
        res.writeHead(serve.status, { 'content-type': 'text/xml' });
        res.end(serve.body);
        return;
      }
      const upstream = http.request(target + (req.url ?? '/'), { method: req.method, headers: req.headers }, (up) => {
        const body: Buffer[] = [];
        up.on('data', (c: Buffer) => body.push(c));
        up.on('end', () => {
          const text = Buffer.concat(body).toString('utf8');
          answers.push({ status: up.statusCode ?? 0, body: text });
          res.writeHead(up.statusCode ?? 502, { 'content-type': 'text/xml' });
          res.end(text);
        });
      });
      upstream.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    answers,
    serve: (answer: { status: number; body: string }) => void (serve = answer),
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

let sts: StsServer;
let proxy: Awaited<ReturnType<typeof startProxy>>;
const recorded: Recorded[] = [];
/** Every secret the recorded answers carry: no message may contain one. */
const secrets: string[] = [];

function clientFor(url: string): StsClient {
  return new StsClient({
    endpoint: url,
    region: 'us-east-1',
    env: {},
    credentials: { ...STS_SERVER_DEFAULT_USER },
    maxRetries: 0,
    timeout: 2000,
  });
}

beforeAll(async () => {
  sts = await startStsServer({ roles: { [ROLE_ARN]: { maxSessionDurationSeconds: 43200 } } });
  proxy = await startProxy(sts.url);
  const client = clientFor(proxy.url);
  const calls: [string, StsOperationName, unknown][] = [
    ['AssumeRole', 'assumeRole', { roleArn: ROLE_ARN, roleSessionName: 'ci', sourceIdentity: 'alice', policy: '{"Version":"2012-10-17"}' }],
    ['AssumeRoleWithWebIdentity', 'assumeRoleWithWebIdentity', { roleArn: ROLE_ARN, roleSessionName: 'pod', webIdentityToken: jwt({ sub: 'sa', aud: 'sts.amazonaws.com', iss: 'https://oidc.example.com' }) }],
    ['AssumeRoleWithSAML', 'assumeRoleWithSAML', { roleArn: ROLE_ARN, principalArn: 'arn:aws:iam::111122223333:saml-provider/idp', samlAssertion: SAML }],
    ['GetSessionToken', 'getSessionToken', { durationSeconds: 900 }],
    ['GetFederationToken', 'getFederationToken', { name: 'fed-user', policy: '{"Version":"2012-10-17"}' }],
    ['GetCallerIdentity', 'getCallerIdentity', {}],
    ['DecodeAuthorizationMessage', 'decodeAuthorizationMessage', { encodedMessage: sts.encodeAuthorizationMessage('{"allowed":false,"context":{"action":"s3:GetObject"}}') }],
    ['GetAccessKeyInfo', 'getAccessKeyInfo', { accessKeyId: STS_SERVER_DEFAULT_USER.accessKeyId }],
  ];
  for (const [action, op, input] of calls) {
    const out = (await client.send(op, input as StsInput<typeof op>)) as { credentials?: { secretAccessKey: string; sessionToken?: string } };
    if (out.credentials) secrets.push(out.credentials.secretAccessKey, out.credentials.sessionToken!);
    recorded.push({ label: action, op, action, input, ...proxy.answers.at(-1)! });
  }
  // Error documents: one injected (throttling), one the server decides (a role it does not know).
  sts.inject({ kind: 'throttle' });
  await expect(client.getCallerIdentity()).rejects.toMatchObject({ code: 'Throttling' });
  recorded.push({ label: 'ErrorResponse(Throttling)', op: 'getCallerIdentity', action: 'GetCallerIdentity', input: {}, ...proxy.answers.at(-1)! });
  const otherRole = { roleArn: 'arn:aws:iam::111122223333:role/other', roleSessionName: 'ci' };
  await expect(client.assumeRole(otherRole)).rejects.toMatchObject({ code: 'AccessDenied' });
  recorded.push({ label: 'ErrorResponse(AccessDenied)', op: 'assumeRole', action: 'AssumeRole', input: otherRole, ...proxy.answers.at(-1)! });
  expect(proxy.answers).toHaveLength(recorded.length);
  secrets.push(STS_SERVER_DEFAULT_USER.secretAccessKey);
});

afterAll(async () => {
  await proxy?.close();
  await sts?.close();
});

type Outcome =
  | { kind: 'output'; output: Record<string, unknown> }
  | { kind: 'service-error'; code: string; message: string }
  | { kind: 'unreadable'; message: string }
  | { kind: 'known-bug' };

/** What the client's parsing step makes of a body: an output, an STS error document, or `UnreadableBody`. */
async function parse(r: Recorded, body: string): Promise<Outcome> {
  try {
    const parsed = await parseStsXml(body, r.action);
    if (parsed.kind === 'error') return { kind: 'service-error', code: parsed.code, message: parsed.message };
    return { kind: 'output', output: toOutput(r.op, parsed.result, parsed.requestId ?? '') as unknown as Record<string, unknown> };
  } catch (error) {
    if (isKnownRootRegexBug(error)) return { kind: 'known-bug' };
    // Anything but UnreadableBody (TypeError, SyntaxError, RangeError...) escapes the client as a crash.
    if (!(error instanceof UnreadableBody)) throw new Error(`parsing ${r.label} crashed with ${String(error)}`, { cause: error });
    return { kind: 'unreadable', message: error.message };
  }
}

/**
 * KNOWN BUG (reported, src/sts/xml.ts is not ours): parseStsXml puts the root element's name into a
 * RegExp unescaped, so a root named `<)ecode…` or `<![CDATA[…` (one mutated or truncated byte away
 * from a real answer) throws a SyntaxError that escapes `StsClient` instead of an `InvalidResponse`.
 * The properties tolerate exactly that error, count it, and the `it.fails` test below pins it. Set
 * this to false once xml.ts escapes the name.
 */
const ROOT_REGEX_BUG_OPEN = false;
function isKnownRootRegexBug(error: unknown): boolean {
  return ROOT_REGEX_BUG_OPEN && error instanceof SyntaxError && /^Invalid regular expression: \/<\/\(\?:/.test(error.message);
}

function expectNoSecret(text: string): void {
  for (const secret of secrets) expect(text).not.toContain(secret);
}

/** Shape checks on an output parsed from a mutated body: every field has its documented type. */
function expectWellTyped(output: Record<string, unknown>): void {
  expect(typeof output.requestId).toBe('string');
  const c = output.credentials as Record<string, unknown> | undefined;
  if (c !== undefined) {
    for (const k of ['accessKeyId', 'secretAccessKey', 'sessionToken']) expect(typeof c[k]).toBe('string');
    expect(c.expiration).toBeInstanceOf(Date);
    expect(Number.isNaN((c.expiration as Date).getTime())).toBe(false);
    expectNoSecret(JSON.stringify(c));
  }
  for (const k of ['packedPolicySize', 'sessionTokenUtilization', 'sessionTokenSize']) {
    // NaN from a garbled number is excluded here and pinned by a known-bug test below.
    if (output[k] !== undefined && !Number.isNaN(output[k])) expect(Number.isInteger(output[k])).toBe(true);
  }
}

/** Characters and fragments that break XML in interesting ways, and regex metacharacters for tag names. */
const NASTY = [
  '<', '>', '&', '&amp;', '&lt;', '&#x0;', '&#xD800;', '&bogus;', '"', "'", '<!--', '-->', '<![CDATA[', ']]>', '</', '/>',
  '<?xml version="1.0"?>', '<!DOCTYPE x [<!ENTITY e "eeeeeeeeee">]>', '&e;', '\u0000', '\uffff', '\ud83d\ude00', 'é',
  '[', '(', '*', '+', '?', '\\', '$', '^', '|', ')', '{2}', ':', 'a:', 'xmlns:a="b"', ' ', '\n', '\t',
];
/** Element names a mutation may swap in for another (never Error/Code/Message, which would legitimately echo text). */
const TAGS = ['Credentials', 'AccessKeyId', 'SecretAccessKey', 'SessionToken', 'Expiration', 'AssumedRoleUser', 'Arn', 'ResponseMetadata', 'RequestId', 'Account', 'UserId', 'Foo', 'ErrorResponse', 'Error'];

/**
 * Characters put into an element's name, in its start and end tags alike. `(`, `)` and `[` are left
 * out here: in the root element they crash the parser today (see the known-bug test below).
 */
const NAME_CHARS = ['.', '-', '_', 'é', '*', '+', '?', '$', '^', '|', ']', '{', '}', '\\', ':'];
const ROOTS = ['AssumeRoleResponse', 'GetCallerIdentityResponse', 'ErrorResponse', 'Error', 'Credentials', 'SessionToken'];

type Mutation = (body: string) => string;
const at = (len: number) => fc.nat({ max: Math.max(0, len) });
const mutation: fc.Arbitrary<(len: number) => fc.Arbitrary<Mutation>> = fc.constantFrom(
  (len: number) => at(len).map((i): Mutation => (b) => b.slice(0, i)), // truncate
  (len: number) => fc.tuple(at(len), fc.nat({ max: 40 })).map(([i, n]): Mutation => (b) => b.slice(0, i) + b.slice(i + n)), // delete a run
  (len: number) => fc.tuple(at(len), fc.constantFrom(...NASTY)).map(([i, s]): Mutation => (b) => b.slice(0, i) + s + b.slice(i)), // insert
  (len: number) => fc.tuple(at(len), fc.constantFrom(...NASTY)).map(([i, s]): Mutation => (b) => b.slice(0, i) + s + b.slice(i + 1)), // replace a char
  (len: number) => fc.tuple(at(len), fc.string({ unit: 'binary', maxLength: 6 })).map(([i, s]): Mutation => (b) => b.slice(0, i) + s + b.slice(i)), // random code points
  () => fc.tuple(fc.constantFrom(...TAGS), fc.constantFrom(...TAGS)).map(([from, to]): Mutation => (b) => b.replaceAll(`<${from}>`, `<${to}>`).replaceAll(`</${from}>`, `</${to}>`)), // rename an element
  () => fc.constantFrom(...TAGS).map((tag): Mutation => (b) => b.replace(new RegExp(`<${tag}>.*?</${tag}>`, 's'), (m) => m + m)), // duplicate an element
  () => fc.constantFrom(...TAGS).map((tag): Mutation => (b) => b.replace(new RegExp(`(<${tag}>)(.*?)(</${tag}>)`, 's'), (_m, o: string, _t, c: string) => `${o}${c}`)), // empty an element
  () => fc.tuple(fc.constantFrom(...ROOTS), fc.constantFrom(...NAME_CHARS)).map(([tag, ch]): Mutation => (b) => b.replaceAll(`<${tag}`, `<${tag}${ch}`).replaceAll(`</${tag}>`, `</${tag}${ch}>`)), // the same odd character in both tags of an element
  () => fc.constantFrom('Expiration', 'PackedPolicySize', 'Account').map((tag): Mutation => (b) => b.replace(new RegExp(`(<${tag}>)(.*?)(</${tag}>)`, 's'), '$1not-a-value$3')), // garble a typed value
);

/** A recorded answer and one to three mutations applied to it. */
const mutatedAnswer = fc.nat({ max: 1000 }).chain((pick) => {
  const r = recorded[pick % recorded.length]!;
  return fc
    .array(mutation.chain((m) => m(r.body.length)), { minLength: 1, maxLength: 3 })
    .map((ms) => ({ r, body: ms.reduce((b, m) => m(b), r.body) }));
});

describe('STS XML parsing of recorded answers', () => {
  it('recorded one answer per operation plus two error documents, and each parses as the client saw it', async () => {
    expect(recorded.map((r) => r.label)).toHaveLength(10);
    for (const r of recorded) {
      const outcome = await parse(r, r.body);
      if (r.label.startsWith('ErrorResponse')) expect(outcome.kind).toBe('service-error');
      else expect(outcome.kind).toBe('output');
    }
    // The secrets to look for are real: AssumeRole x3, GetSessionToken, GetFederationToken, plus the signing key.
    expect(secrets).toHaveLength(11);
  });
});

describe('STS XML parsing under truncation and mutation (fast-check)', () => {
  it('every truncation of a recorded answer is UnreadableBody, or (only trailing whitespace cut) the same parse', async () => {
    const prefix = fc.nat({ max: 10_000 }).chain((i) => {
      const r = recorded[i % recorded.length]!;
      return fc.nat({ max: r.body.length - 1 }).map((cut) => ({ r, cut }));
    });
    await fc.assert(
      fc.asyncProperty(prefix, async ({ r, cut }) => {
        const body = r.body.slice(0, cut);
        const [outcome, original] = await Promise.all([parse(r, body), parse(r, r.body)]);
        if (outcome.kind === 'known-bug') return;
        if (r.body.slice(cut).trim() === '') {
          expect(outcome).toEqual(original);
        } else {
          expect(outcome.kind).toBe('unreadable');
          expectNoSecret((outcome as { message: string }).message);
          expect((outcome as { message: string }).message).not.toContain('<');
        }
      }),
      { numRuns: 400 },
    );
  });

  it('random mutations: a well-typed parse or UnreadableBody, never a crash or a secret in a message', async () => {
    const seen = { output: 0, 'service-error': 0, unreadable: 0, 'known-bug': 0 };
    await fc.assert(
      fc.asyncProperty(mutatedAnswer, async ({ r, body }) => {
        const outcome = await parse(r, body);
        seen[outcome.kind] += 1;
        if (outcome.kind === 'output') expectWellTyped(outcome.output);
        else if (outcome.kind === 'known-bug') return;
        else if (outcome.kind === 'service-error') {
          expect(outcome.code).not.toBe('');
          expectNoSecret(outcome.message);
        } else {
          expectNoSecret(outcome.message);
          expect(outcome.message).not.toContain('<');
        }
      }),
      { numRuns: 500 },
    );
    // Mutations must sometimes leave a parseable answer and often break it; the known bug stays rare.
    expect(seen.unreadable).toBeGreaterThan(100);
    expect(seen.output + seen['service-error']).toBeGreaterThan(20);
    expect(seen['known-bug']).toBeLessThan(20);
  });

  it('through the client over loopback: a result or a StsError (InvalidResponse or the service code), nothing else', async () => {
    const client = clientFor(proxy.url);
    const codes = new Set<string>();
    await fc.assert(
      fc.asyncProperty(mutatedAnswer, fc.constantFrom(200, 400, 403, 500), async ({ r, body }, status) => {
        proxy.serve({ status, body });
        let error: unknown;
        try {
          await client.send(r.op, r.input as StsInput<typeof r.op>);
        } catch (e) {
          error = e;
        }
        if (error === undefined || isKnownRootRegexBug(error)) return;
        expect(error).toBeInstanceOf(StsError);
        expect(error).toBeInstanceOf(CredentialsError);
        const e = error as StsError;
        codes.add(e.code);
        expect(e.message).toMatch(new RegExp(`^STS ${r.action} failed: `));
        expectNoSecret(e.message);
        expectNoSecret(JSON.stringify(e));
        if (e.code === 'InvalidResponse') expect(e.message).not.toContain('<');
      }),
      { numRuns: 250 },
    );
    expect(codes.has('InvalidResponse')).toBe(true);
  });
});

/**
 * Known bugs in src/sts/xml.ts, found by the mutations above and reported to the lead (the file is
 * not ours to change). `it.fails` keeps the suite green while the bug stands and turns red once it
 * is fixed, as a reminder to make these plain tests.
 */
describe('STS XML parsing bugs found by the properties (fixed)', () => {
  it('a root element whose name holds ( ) or [ is an UnreadableBody, not a SyntaxError escaping the client', async () => {
    // parseStsXml builds a RegExp from the root element's name without escaping it.
    for (const ch of ['(', ')', '[']) {
      const r = recorded.find((x) => x.label === 'GetCallerIdentity')!;
      const body = r.body.replace('<GetCallerIdentityResponse', `<GetCallerIdentityResponse${ch}`).replace('</GetCallerIdentityResponse>', `</GetCallerIdentityResponse${ch}>`);
      expect((await parse(r, body)).kind).toBe('unreadable');
      proxy.serve({ status: 200, body });
      await expect(clientFor(proxy.url).getCallerIdentity()).rejects.toBeInstanceOf(StsError);
    }
  });

  it('a PackedPolicySize that is not a number is not passed on as NaN', async () => {
    const r = recorded.find((x) => x.label === 'AssumeRole')!;
    expect(r.body).toContain('<PackedPolicySize>');
    const outcome = await parse(r, r.body.replace(/<PackedPolicySize>\d+</, '<PackedPolicySize>abc<'));
    if (outcome.kind === 'output') expect(Number.isNaN(outcome.output.packedPolicySize)).toBe(false);
  });
});
