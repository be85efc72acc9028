import { GetCallerIdentityCommand, AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { clientFor, ROLE_ARN, server, USER } from './helpers.js';

/** The AWS SDK's own signer against our server's verifier: proves the verifier is right, not merely consistent with our signer. */
describe('the real @aws-sdk/client-sts against the local STS', () => {
  const sdk = (url: string, secretAccessKey: string) =>
    new STSClient({ endpoint: url, region: 'us-west-2', credentials: { accessKeyId: USER.accessKeyId, secretAccessKey }, maxAttempts: 1 });

  it('GetCallerIdentity succeeds with the right secret', async () => {
    const s = await server();
    const out = await sdk(s.url, USER.secretAccessKey).send(new GetCallerIdentityCommand({}));
    expect(out.Account).toBe('123456789012');
    expect(out.Arn).toBe(`arn:aws:iam::123456789012:user/${USER.accessKeyId}`);
    expect(s.requests[0]).toMatchObject({ signed: true, signatureValid: true, signingRegion: 'us-west-2' });
  });

  it('gets SignatureDoesNotMatch with a wrong secret', async () => {
    const s = await server();
    const error = await sdk(s.url, 'wrong-secret').send(new GetCallerIdentityCommand({})).catch((e: { name: string; $metadata: { httpStatusCode: number } }) => e);
    expect(error).toMatchObject({ name: 'SignatureDoesNotMatch', $metadata: { httpStatusCode: 403 } });
    expect(s.requests[0]!.signatureValid).toBe(false);
  });

  it('parses our server\'s AssumeRole answer, and credentials it issued to the SDK work with our client', async () => {
    const s = await server();
    const out = await sdk(s.url, USER.secretAccessKey).send(
      new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: 'sdk', Tags: [{ Key: 'a', Value: 'b' }], DurationSeconds: 900 }),
    );
    expect(out.AssumedRoleUser?.Arn).toBe('arn:aws:sts::111122223333:assumed-role/deploy/sdk');
    expect(s.requests[0]!.params['Tags.member.1.Key']).toBe('a');
    const me = await clientFor(s, {
      credentials: { accessKeyId: out.Credentials!.AccessKeyId!, secretAccessKey: out.Credentials!.SecretAccessKey!, sessionToken: out.Credentials!.SessionToken! },
    }).getCallerIdentity();
    expect(me.arn).toBe(out.AssumedRoleUser!.Arn);
  });
});
