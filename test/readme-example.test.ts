import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { fromAssumeRole, fromStatic, refreshing } from 'credchain';
import { createFakeClock, mockProvider, startStsServer, STS_SERVER_DEFAULT_USER, type StsServer } from 'credchain/testing';

let sts: StsServer;
beforeAll(async () => {
  sts = await startStsServer(); // a local STS on a random loopback port; it checks every signature
});
afterAll(() => sts.close());

test('assumes the deploy role once and signs with it', async () => {
  const credentials = fromAssumeRole({
    roleArn: 'arn:aws:iam::123456789012:role/deploy',
    source: fromStatic(STS_SERVER_DEFAULT_USER), // a user the local STS knows
    sts: { endpoint: sts.url, region: 'us-east-1' },
  });
  const client = new STSClient({ endpoint: sts.url, region: 'us-east-1', credentials });
  const me = await client.send(new GetCallerIdentityCommand({}));
  expect(me.Arn).toMatch(/assumed-role\/deploy\//);
  expect(sts.counts.AssumeRole).toBe(1);
});

test('renews ahead of expiry, without sleeping', async () => {
  const clock = createFakeClock();
  const source = mockProvider(() => ({
    accessKeyId: 'AKIDTEST',
    secretAccessKey: 'test',
    expiration: new Date(clock.now() + 60 * 60_000),
  }));
  const credentials = refreshing(source, { now: clock.now });
  await credentials();
  clock.advance(55 * 60_000); // inside the last minutes: callers wait for a renewal
  await credentials();
  expect(source.calls).toBe(2);
});
