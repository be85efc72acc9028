import type { S3ClientConfig } from '@aws-sdk/client-s3';
import type { STSClientConfig } from '@aws-sdk/client-sts';
import type { SignatureV4Init } from '@smithy/signature-v4';
import { expectTypeOf, test } from 'vitest';
import type { CredentialProvider, Credentials } from '../src/credentials.js';
import { chain } from '../src/chain.js';
import { defaultChain } from '../src/default-chain.js';
import { fromAssumeRole } from '../src/providers/sts/assume-role.js';
import { fromContainerMetadata } from '../src/providers/metadata/container.js';
import { fromEnv } from '../src/providers/env.js';
import { fromFederationToken } from '../src/providers/sts/federation-token.js';
import { fromIni } from '../src/providers/profile/ini.js';
import { fromInstanceMetadata } from '../src/providers/metadata/instance.js';
import { fromProcess } from '../src/providers/process/process.js';
import { fromSaml } from '../src/providers/sts/saml.js';
import { fromSessionToken } from '../src/providers/sts/session-token.js';
import { fromStatic } from '../src/providers/static.js';
import { fromTokenFile } from '../src/providers/sts/token-file.js';
import { fromWebIdentity } from '../src/providers/sts/web-identity.js';
import * as lazy from '../src/lazy-providers.js';
import { refreshing } from '../src/refreshing.js';
import { mockProvider } from '../src/testing/mock-provider.js';

type StsCredentials = NonNullable<STSClientConfig['credentials']>;
type S3Credentials = NonNullable<S3ClientConfig['credentials']>;
type SignerCredentials = SignatureV4Init['credentials'];

const source = fromStatic({ accessKeyId: 'AKID', secretAccessKey: 'secret' });
const sts = { endpoint: 'http://127.0.0.1:1' };
const providers = {
  fromStatic: source,
  fromEnv: fromEnv(),
  fromIni: fromIni(),
  fromAssumeRole: fromAssumeRole({ roleArn: 'arn:aws:iam::123456789012:role/r', source, sts }),
  fromAssumeRoleNoCache: fromAssumeRole({ roleArn: 'arn:aws:iam::123456789012:role/r', source, sts, refresh: false }),
  fromWebIdentity: fromWebIdentity({ roleArn: 'arn:aws:iam::123456789012:role/r', webIdentityToken: 't', sts }),
  fromTokenFile: fromTokenFile(),
  fromSaml: fromSaml({ roleArn: 'arn:aws:iam::123456789012:role/r', principalArn: 'arn:aws:iam::123456789012:saml-provider/p', samlAssertion: 'a', sts }),
  fromSessionToken: fromSessionToken({ source, sts }),
  fromFederationToken: fromFederationToken({ source, name: 'n', sts }),
  fromInstanceMetadata: fromInstanceMetadata(),
  fromContainerMetadata: fromContainerMetadata(),
  fromProcess: fromProcess({ command: 'true' }),
  lazyFromInstanceMetadata: lazy.fromInstanceMetadata(),
  lazyFromContainerMetadata: lazy.fromContainerMetadata(),
  lazyFromProcess: lazy.fromProcess({ command: 'true' }),
  chain: chain(source),
  refreshing: refreshing(source),
  defaultChain: defaultChain(),
  mockProvider: mockProvider({ accessKeyId: 'AKID', secretAccessKey: 'secret' }),
};

test('every provider is accepted as STSClientConfig["credentials"]', () => {
  expectTypeOf<CredentialProvider>().toExtend<StsCredentials>();
  expectTypeOf(providers.fromStatic).toExtend<StsCredentials>();
  expectTypeOf(providers.fromEnv).toExtend<StsCredentials>();
  expectTypeOf(providers.fromIni).toExtend<StsCredentials>();
  expectTypeOf(providers.fromAssumeRole).toExtend<StsCredentials>();
  expectTypeOf(providers.fromAssumeRoleNoCache).toExtend<StsCredentials>();
  expectTypeOf(providers.fromWebIdentity).toExtend<StsCredentials>();
  expectTypeOf(providers.fromTokenFile).toExtend<StsCredentials>();
  expectTypeOf(providers.fromSaml).toExtend<StsCredentials>();
  expectTypeOf(providers.fromSessionToken).toExtend<StsCredentials>();
  expectTypeOf(providers.fromFederationToken).toExtend<StsCredentials>();
  expectTypeOf(providers.fromInstanceMetadata).toExtend<StsCredentials>();
  expectTypeOf(providers.fromContainerMetadata).toExtend<StsCredentials>();
  expectTypeOf(providers.fromProcess).toExtend<StsCredentials>();
  expectTypeOf(providers.lazyFromInstanceMetadata).toExtend<StsCredentials>();
  expectTypeOf(providers.lazyFromContainerMetadata).toExtend<StsCredentials>();
  expectTypeOf(providers.lazyFromProcess).toExtend<StsCredentials>();
  expectTypeOf(providers.chain).toExtend<StsCredentials>();
  expectTypeOf(providers.refreshing).toExtend<StsCredentials>();
  expectTypeOf(providers.defaultChain).toExtend<StsCredentials>();
  expectTypeOf(providers.mockProvider).toExtend<StsCredentials>();
});

test('every provider is accepted as S3ClientConfig["credentials"] and by SignatureV4', () => {
  type All = (typeof providers)[keyof typeof providers];
  expectTypeOf<All>().toExtend<S3Credentials>();
  expectTypeOf<All>().toExtend<SignerCredentials>();
  expectTypeOf(providers.defaultChain).toExtend<S3Credentials>();
  expectTypeOf(providers.fromIni).toExtend<S3Credentials>();
  expectTypeOf(providers.fromInstanceMetadata).toExtend<S3Credentials>();
});

test('resolved Credentials are accepted where the SDK takes a plain identity', () => {
  expectTypeOf<Credentials>().toExtend<StsCredentials>();
  expectTypeOf<Credentials>().toExtend<S3Credentials>();
});

test('the check can fail: something that is not a provider is not accepted', () => {
  expectTypeOf<() => Promise<{ accessKeyId: string }>>().not.toExtend<StsCredentials>();
  expectTypeOf<() => string>().not.toExtend<S3Credentials>();
});
