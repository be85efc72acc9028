import { describe, expect, it } from 'vitest';
import { asRequestId, parseStsXml } from '../../src/sts/xml.js';

const body = (requestId: string) =>
  `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/x</Arn><UserId>AIDAX</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`;

describe('request ids taken from a response', () => {
  it('keeps an id shaped like one', async () => {
    const parsed = await parseStsXml(body('609ec19a-987e-4c13-aeb2-db928cf5f75d'), 'GetCallerIdentity');
    expect(parsed.requestId).toBe('609ec19a-987e-4c13-aeb2-db928cf5f75d');
  });

  it('drops one that holds markup or other text, so it never reaches an error message (found by the property tests)', async () => {
    const parsed = await parseStsXml(body('&lt;09ec19a-987e-4c13'), 'GetCallerIdentity');
    expect(parsed.requestId).toBeUndefined();
    expect(asRequestId('abc def')).toBeUndefined();
    expect(asRequestId('x'.repeat(129))).toBeUndefined();
    expect(asRequestId(undefined)).toBeUndefined();
  });
});
