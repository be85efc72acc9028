import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultChain } from '../../../src/default-chain.js';
import { fromInstanceMetadata } from '../../../src/providers/metadata/instance.js';
import { forgetAbsentMetadataEndpoints } from '../../../src/providers/metadata/off-host.js';
import { clearStsSessionCache } from '../../../src/providers/sts/session-cache.js';
import { StsClient } from '../../../src/sts/client.js';
import { startImdsServer, type ImdsServer } from '../../../src/testing/imds-server.js';
import { startStsServer, STS_SERVER_DEFAULT_USER as USER, type StsServer } from '../../../src/testing/sts-server.js';
import { makeAwsHome, type AwsHome } from '../../helpers/aws-home.js';

/**
 * Issue 12: a role profile with no region asks IMDS for the instance's region only where this process
 * has evidence it runs on EC2 (IMDS answered earlier, or the chain's credentials come from IMDS).
 * Otherwise: us-east-1 and the global endpoint, with a debug line, and not one metadata request.
 */

const ACCOUNT = '123456789012';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/deploy`;
const FILES = {
  credentials: `[user]\naws_access_key_id = ${USER.accessKeyId}\naws_secret_access_key = ${USER.secretAccessKey}\n`,
  config: [
    '[profile deploy]',
    `role_arn = ${ROLE}`,
    'source_profile = user',
    '',
    '[profile forbidden]',
    `role_arn = arn:aws:iam::${ACCOUNT}:role/not-allowed`,
    'source_profile = user',
    '',
    '[profile dangling]',
    `role_arn = ${ROLE}`,
    'source_profile = nowhere',
    '',
    '[profile on-ec2]',
    `role_arn = ${ROLE}`,
    'credential_source = Ec2InstanceMetadata',
    '',
  ].join('\n'),
};

let sts: StsServer;
let imds: ImdsServer;
let home: AwsHome;
beforeEach(async () => {
  sts = await startStsServer({ account: ACCOUNT, roles: { [ROLE]: {} } });
  imds = await startImdsServer({ region: 'eu-central-1' });
  home = makeAwsHome(FILES);
});
afterEach(async () => {
  clearStsSessionCache();
  forgetAbsentMetadataEndpoints();
  await Promise.all([sts.close(), imds.close()]);
  home.remove();
});

function chainFor(profile: string, debug: string[] = []) {
  return defaultChain({
    profile,
    // Every metadata client points at the local IMDS, through the environment as on a real host.
    env: { HOME: home.home, AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.endpoint },
    sts: { endpoint: sts.url, maxRetries: 0 },
    logger: { debug: (...a: unknown[]) => debug.push(a.map(String).join(' ')) },
  });
}

describe('the instance region is asked only with evidence of EC2', () => {
  it('no evidence: no metadata request at all; us-east-1, with a debug line saying why', async () => {
    const debug: string[] = [];
    await chainFor('deploy', debug)();
    expect(imds.requests).toEqual([]);
    expect(sts.requests.map((r) => [r.action, r.signingRegion])).toEqual([['AssumeRole', 'us-east-1']]);
    expect(debug.some((l) => l.includes('not asking') && l.includes('for the region'))).toBe(true);
  });

  it('IMDS answered earlier in this process: the instance region is used', async () => {
    await fromInstanceMetadata({ endpoint: imds.endpoint, env: {} })();
    imds.resetLog();
    await chainFor('deploy')();
    expect(imds.requests.map((r) => r.path)).toContain('/latest/meta-data/placement/region');
    expect(sts.requests.map((r) => r.signingRegion)).toEqual(['eu-central-1']);
  });

  it('credentials from instance metadata (credential_source = Ec2InstanceMetadata): the instance region is used', async () => {
    const bootstrap = new StsClient({ endpoint: sts.url, region: 'us-east-1', credentials: { ...USER }, env: {} });
    const session = (await bootstrap.getSessionToken({ durationSeconds: 3600 })).credentials;
    await imds.close();
    imds = await startImdsServer({
      region: 'eu-central-1',
      credentials: { accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey, sessionToken: session.sessionToken! },
    });
    sts.clearLog();
    await chainFor('on-ec2')();
    expect(imds.credentialsServed).toBe(1); // fetched once: for the evidence and for signing
    expect(imds.requests.map((r) => r.path)).toContain('/latest/meta-data/placement/region');
    expect(sts.requests.map((r) => [r.action, r.signingRegion])).toEqual([['AssumeRole', 'eu-central-1']]);
  });

  it.each([
    ['forbidden', 'the role refuses (AccessDenied)'],
    ['dangling', 'source_profile names a missing profile'],
  ])('a chain that fails closed on a broken profile (%s: %s) makes no metadata request', async (profile) => {
    await expect(chainFor(profile)()).rejects.toThrow();
    expect(imds.requests).toEqual([]);
  });
});
