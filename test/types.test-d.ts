import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { expectTypeOf, test } from 'vitest';
import type { Credentials, CredentialProvider } from '../src/index.js';
import { fromEnv, fromStatic, refreshing, chain } from '../src/index.js';

test('Credentials is assignable to AwsCredentialIdentity', () => {
  expectTypeOf<Credentials>().toExtend<AwsCredentialIdentity>();
});

test('CredentialProvider and our providers are assignable to AwsCredentialIdentityProvider', () => {
  expectTypeOf<CredentialProvider>().toExtend<AwsCredentialIdentityProvider>();
  expectTypeOf(fromEnv()).toExtend<AwsCredentialIdentityProvider>();
  expectTypeOf(refreshing(chain(fromEnv(), fromStatic({ accessKeyId: 'a', secretAccessKey: 'b' })))).toExtend<AwsCredentialIdentityProvider>();
});
