import { describe, expect, it } from 'vitest';
import { fromEnv } from '../../src/index.js';

// botocore still reads AWS_SECURITY_TOKEN; credchain uses it only when AWS_SESSION_TOKEN is unset or blank.
describe('fromEnv: the legacy AWS_SECURITY_TOKEN', () => {
  const keys = { AWS_ACCESS_KEY_ID: 'AKIDENV', AWS_SECRET_ACCESS_KEY: 'envsecret' };

  it('is the session token when AWS_SESSION_TOKEN is absent', async () => {
    expect((await fromEnv({ env: { ...keys, AWS_SECURITY_TOKEN: 'legacy' } })()).sessionToken).toBe('legacy');
  });

  it('is the session token when AWS_SESSION_TOKEN is blank (blank counts as unset)', async () => {
    expect((await fromEnv({ env: { ...keys, AWS_SESSION_TOKEN: '  ', AWS_SECURITY_TOKEN: 'legacy' } })()).sessionToken).toBe('legacy');
  });

  it('loses to AWS_SESSION_TOKEN when both are set', async () => {
    expect((await fromEnv({ env: { ...keys, AWS_SESSION_TOKEN: 'modern', AWS_SECURITY_TOKEN: 'legacy' } })()).sessionToken).toBe('modern');
  });

  it('alone, without keys, is still "not found"', async () => {
    await expect(fromEnv({ env: { AWS_SECURITY_TOKEN: 'legacy' } })()).rejects.toThrow(/AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set/);
  });
});
