import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { signRequest } from '../../src/sts/signer.js';
import { signV4 } from '../../src/sts/sigv4.js';
import { clientFor, server } from './helpers.js';

// Our signer against @smithy/signature-v4 (what the AWS SDK signs with) on random STS-shaped requests,
// and against the local STS server's verifier (src/testing/sts-sigv4.ts, which shares no code with it).

type Data = string | ArrayBuffer | ArrayBufferView;
const bytes = (d: Data) => (typeof d === 'string' ? d : ArrayBuffer.isView(d) ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength) : new Uint8Array(d));
class Sha256 {
  private readonly h: Hash | Hmac;
  constructor(secret?: Data) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(d: Data) {
    this.h.update(bytes(d));
  }
  async digest() {
    return new Uint8Array(this.h.digest());
  }
  reset() {}
}

const token = fc.stringMatching(/^[A-Za-z0-9+/=]{16,300}$/);
const secret = fc.stringMatching(/^[A-Za-z0-9+/]{40}$/);
const keyId = fc.stringMatching(/^(AKIA|ASIA)[A-Z0-9]{16}$/);
const region = fc.constantFrom('us-east-1', 'us-west-2', 'eu-central-1', 'ap-southeast-3', 'cn-north-1', 'us-gov-west-1');
const host = fc.constantFrom('sts.amazonaws.com', 'sts.us-west-2.amazonaws.com', 'sts.cn-north-1.amazonaws.com.cn', '127.0.0.1:4567', 'vpce-0a1b.sts.us-east-1.vpce.amazonaws.com');
// Random Query bodies, values with anything a role session name, policy or tag may carry.
const param = fc.tuple(fc.stringMatching(/^[A-Za-z][A-Za-z0-9.]{0,20}$/), fc.string({ unit: 'grapheme', maxLength: 40 }));
const body = fc.array(param, { maxLength: 8 }).map((ps) => ps.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&'));
const date = fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true });
// Custom endpoints may carry a path; segments with characters that need encoding (twice, for non-S3).
const path = fc.array(fc.string({ unit: 'grapheme-ascii', maxLength: 8 }), { maxLength: 3 }).map((segs) => new URL(`https://x/${segs.map(encodeURIComponent).join('/')}`).pathname);
const contentType = fc.constantFrom('application/x-www-form-urlencoded; charset=utf-8', 'application/x-www-form-urlencoded', ' application/x-www-form-urlencoded;   charset=utf-8 ');

async function smithySign(input: { host: string; path: string; body: string; contentType: string; region: string; date: Date; credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } }) {
  const signer = new SignatureV4({ service: 'sts', region: input.region, credentials: input.credentials, sha256: Sha256, applyChecksum: false });
  const signed = await signer.sign(
    { method: 'POST', protocol: 'https:', hostname: input.host, path: input.path, query: {}, headers: { host: input.host, 'content-type': input.contentType }, body: input.body },
    { signingDate: input.date },
  );
  return signed.headers as Record<string, string>;
}

describe('SigV4: cross-check with @smithy/signature-v4', () => {
  it('signs random STS requests to the same headers', async () => {
    await fc.assert(
      fc.asyncProperty(keyId, secret, fc.option(token, { nil: undefined }), region, host, path, body, contentType, date, async (accessKeyId, secretAccessKey, sessionToken, region, host, path, body, contentType, date) => {
        const credentials = { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
        const ours = signV4({ method: 'POST', path, headers: { host, 'content-type': contentType }, body }, credentials, region, 'sts', date);
        const theirs = await smithySign({ host, path, body, contentType, region, date, credentials });
        expect(ours).toEqual(theirs);
      }),
      { numRuns: 300 },
    );
  });

  it('signs what the client sends (signRequest over a URL) as smithy does', async () => {
    const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'FwoGZXIvYXdzEXAMPLE' };
    const date = new Date('2024-05-06T07:08:09.123Z');
    const body = 'Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdemo&RoleSessionName=s%20n&Version=2011-06-15';
    const url = new URL('https://sts.eu-west-1.amazonaws.com/');
    const headers = { host: url.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' };
    const ours = await signRequest({ url, headers, body }, credentials as never, 'eu-west-1', date);
    const theirs = await smithySign({ host: url.host, path: '/', body, contentType: headers['content-type'], region: 'eu-west-1', date, credentials });
    expect(ours).toEqual(theirs);
    expect(ours['x-amz-date']).toBe('20240506T070809Z');
    expect(ours['x-amz-security-token']).toBe(credentials.sessionToken);
  });

  it('reuses the derived key only for the same secret and scope', () => {
    const req = { method: 'POST', path: '/', headers: { host: 'h' }, body: '' };
    const d = new Date('2024-01-01T00:00:00Z');
    const a = signV4(req, { accessKeyId: 'A', secretAccessKey: 's1' }, 'us-east-1', 'sts', d).authorization;
    const b = signV4(req, { accessKeyId: 'A', secretAccessKey: 's2' }, 'us-east-1', 'sts', d).authorization;
    const c = signV4(req, { accessKeyId: 'A', secretAccessKey: 's2' }, 'us-west-2', 'sts', d).authorization;
    const e = signV4(req, { accessKeyId: 'A', secretAccessKey: 's2' }, 'us-west-2', 'sts', new Date('2024-01-02T00:00:00Z')).authorization;
    expect(new Set([a, b, c, e]).size).toBe(4);
    expect(signV4(req, { accessKeyId: 'A', secretAccessKey: 's1' }, 'us-east-1', 'sts', d).authorization).toBe(a);
  });
});

describe('SigV4: the local STS server verifies what the client signs', () => {
  it('accepts random session names, policies and tokens, signed by long-term and session keys', async () => {
    const s = await server();
    const client = clientFor(s);
    await fc.assert(
      fc.asyncProperty(fc.stringMatching(/^[\w+=,.@-]{2,64}$/), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }), async (sessionName, tagValue) => {
        const out = await client.assumeRole({
          roleArn: 'arn:aws:iam::111122223333:role/deploy',
          roleSessionName: sessionName,
          tags: [{ key: 'k', value: tagValue.replace(/[^\p{L}\p{Z}\p{N}_.:/=+\-@]/gu, 'x') }],
        });
        // Signed with the temporary credentials (x-amz-security-token signed too).
        const who = await clientFor(s, { credentials: out.credentials }).getCallerIdentity();
        expect(who.arn).toContain(sessionName);
      }),
      { numRuns: 25 },
    );
    expect(s.requests.every((r) => r.status === 200)).toBe(true);
  });
});
