import { describe, expect, it } from 'vitest';
import { NoCredentialsError, chain } from '../../src/chain.js';
import { CredentialsNotFound } from '../../src/errors.js';
import { named, providerNameOf } from '../../src/provider.js';
import { LAST_ATTEMPTS, lastAttemptsOf } from '../../src/trace.js';

// Tests added from the surviving mutants of `npm run mutate` (bench/MUTATION.md).
const creds = { accessKeyId: 'AKIDMUTATION', secretAccessKey: 'mutation-secret' };

describe('chain (mutation)', () => {
  it('NoCredentialsError has its own name and names the chain as its provider', async () => {
    const error = await chain(named('a', async () => Promise.reject(new CredentialsNotFound('gone'))))().catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NoCredentialsError);
    expect((error as Error).name).toBe('NoCredentialsError');
    expect((error as NoCredentialsError).providerName).toBe('chain');
    expect(JSON.parse(JSON.stringify(error))).toMatchObject({ name: 'NoCredentialsError', providerName: 'chain' });
  });

  it('says a provider name once when its message starts with it, and keeps other messages whole', async () => {
    const error = (await chain(
      named('a', async () => Promise.reject(new CredentialsNotFound('a: not set'))),
      named('bb', async () => Promise.reject(new CredentialsNotFound('nothing for bb: here'))),
    )().catch((e: unknown) => e)) as NoCredentialsError;
    expect(error.message).toBe(
      ['Could not find AWS credentials. Attempted:', '  - a: not set', '  - bb: nothing for bb: here'].join('\n'),
    );
  });

  it('names anonymous providers by their 1-based position', () => {
    const provider = chain(
      (() => async () => creds)(),
      (() => async () => creds)(),
    );
    expect(providerNameOf(provider)).toBe('chain(provider #1, provider #2)');
  });

  it('keeps its last attempts behind a non-enumerable symbol', async () => {
    const provider = chain(named('a', async () => creds));
    await provider();
    expect(Object.getOwnPropertyDescriptor(provider, LAST_ATTEMPTS)?.enumerable).toBe(false);
    expect(Object.getOwnPropertySymbols({ ...provider })).not.toContain(LAST_ATTEMPTS);
    expect(lastAttemptsOf(provider)).toEqual([{ provider: 'a', outcome: 'resolved' }]);
  });
});
