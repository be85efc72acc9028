import { describe, expect, it } from 'vitest';
import { StsError, StsValidationError } from '../../src/sts/index.js';
import { clientFor, ROLE_ARN, server } from './helpers.js';

describe('StsClient guards', () => {
  it('rejects a per-call timeout that would remove the deadline, sending nothing', async () => {
    const s = await server();
    const client = clientFor(s);
    for (const timeout of [0, -5, Number.NaN, '100' as unknown as number]) {
      await expect(client.getCallerIdentity({}, { timeout })).rejects.toThrow(
        `StsClient: option timeout must be a positive number of milliseconds (got ${String(timeout)})`,
      );
    }
    expect(s.counts.total).toBe(0);
    // A valid per-call timeout still applies.
    s.inject({ kind: 'hang' });
    const e = await clientFor(s, { maxRetries: 0 }).getCallerIdentity({}, { timeout: 50 }).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'TimeoutError' });
  });

  it('does not take inherited keys for operation names or parameters', async () => {
    const s = await server();
    const client = clientFor(s);
    await expect(client.send('toString' as never, {} as never)).rejects.toThrow('StsClient: unknown operation toString');
    await expect(client.send('constructor' as never, {} as never)).rejects.toThrow('StsClient: unknown operation constructor');
    const input = { roleArn: ROLE_ARN, roleSessionName: 'ci', toString: 'x' } as never;
    const e = await client.assumeRole(input).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(StsValidationError);
    expect((e as Error).message).toBe('STS AssumeRole: invalid parameter toString: is not a parameter of AssumeRole');
    expect(s.counts.total).toBe(0);
  });

  it('an oversized response is an InvalidResponse, not retried as a network error', async () => {
    const s = await server();
    const client = clientFor(s);
    const encodedMessage = s.encodeAuthorizationMessage('x'.repeat(1100 * 1024));
    const e = await client.decodeAuthorizationMessage({ encodedMessage }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(StsError);
    expect(e).toMatchObject({ code: 'InvalidResponse', retryable: false });
    expect((e as Error).message).toMatch(/over 1048576 bytes/);
    expect(s.counts.total).toBe(1);
  });

  it('keeps the context assertions it sent out of error messages', async () => {
    const s = await server();
    const client = clientFor(s);
    const contextAssertion = 'CONTEXT-ASSERTION-SECRET-1234567890';
    s.inject({ kind: 'error', status: 400, code: 'InvalidParameterValue', message: `bad context ${contextAssertion}` });
    const e = (await client
      .assumeRole({ roleArn: ROLE_ARN, roleSessionName: 'ci', providedContexts: [{ providerArn: 'arn:aws:iam::aws:contextProvider/IdentityCenter', contextAssertion }] })
      .catch((x: unknown) => x)) as StsError;
    expect(e.code).toBe('InvalidParameterValue');
    expect(e.message).toContain('bad context ****');
    expect(e.message).not.toContain(contextAssertion);
  });
});
