import { describe, expect, it } from 'vitest';
import { StsClient } from '../../src/sts/index.js';
import { captureLogger, server, USER } from './helpers.js';

async function endpointOf(options: ConstructorParameters<typeof StsClient>[0]) {
  const e = await new StsClient({ env: {}, ...options }).resolveEndpoint();
  return { url: e.url.href, signingRegion: e.signingRegion, source: e.source };
}

describe('endpoint and region rules', () => {
  it.each([
    [{ region: 'us-west-2' }, 'https://sts.us-west-2.amazonaws.com/', 'us-west-2'],
    [{ region: 'us-east-1' }, 'https://sts.us-east-1.amazonaws.com/', 'us-east-1'],
    [{ region: 'eu-central-1' }, 'https://sts.eu-central-1.amazonaws.com/', 'eu-central-1'],
    [{ region: 'cn-north-1' }, 'https://sts.cn-north-1.amazonaws.com.cn/', 'cn-north-1'],
    [{ region: 'cn-northwest-1' }, 'https://sts.cn-northwest-1.amazonaws.com.cn/', 'cn-northwest-1'],
    [{ region: 'us-gov-west-1' }, 'https://sts.us-gov-west-1.amazonaws.com/', 'us-gov-west-1'],
    [{ region: 'us-iso-east-1' }, 'https://sts.us-iso-east-1.c2s.ic.gov/', 'us-iso-east-1'],
    [{ region: 'aws-global' }, 'https://sts.amazonaws.com/', 'us-east-1'],
    [{ region: 'us-west-2', useFipsEndpoint: true }, 'https://sts-fips.us-west-2.amazonaws.com/', 'us-west-2'],
    [{ region: 'us-gov-east-1', useFipsEndpoint: true }, 'https://sts.us-gov-east-1.amazonaws.com/', 'us-gov-east-1'],
    [{ region: 'us-west-2', env: { AWS_USE_FIPS_ENDPOINT: 'true' } }, 'https://sts-fips.us-west-2.amazonaws.com/', 'us-west-2'],
    [{ useFipsEndpoint: true }, 'https://sts-fips.us-east-1.amazonaws.com/', 'us-east-1'],
  ])('%j → %s signed for %s', async (options, url, signingRegion) => {
    expect(await endpointOf(options)).toMatchObject({ url, signingRegion });
  });

  it('region: option, then AWS_REGION, then AWS_DEFAULT_REGION, then the profile hook', async () => {
    const env = { AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'eu-west-2' };
    const profileRegion = async () => 'ap-south-1';
    expect((await endpointOf({ region: 'us-west-1', env, profileRegion })).signingRegion).toBe('us-west-1');
    expect((await endpointOf({ env, profileRegion })).signingRegion).toBe('eu-west-1');
    expect((await endpointOf({ env: { AWS_DEFAULT_REGION: 'eu-west-2' }, profileRegion })).signingRegion).toBe('eu-west-2');
    expect(await endpointOf({ profileRegion })).toMatchObject({ signingRegion: 'ap-south-1', url: 'https://sts.ap-south-1.amazonaws.com/' });
  });

  it('no region anywhere: us-east-1 with the global endpoint, and a debug line says so', async () => {
    const { lines, logger } = captureLogger();
    const e = await new StsClient({ env: {}, logger, profileRegion: async () => undefined }).resolveEndpoint();
    expect({ url: e.url.href, signingRegion: e.signingRegion, source: e.source }).toEqual({ url: 'https://sts.amazonaws.com/', signingRegion: 'us-east-1', source: 'global' });
    expect(lines).toEqual([expect.stringMatching(/no region configured .* using us-east-1 and https:\/\/sts\.amazonaws\.com/)]);
  });

  it('endpoint option beats AWS_ENDPOINT_URL_STS, which beats AWS_ENDPOINT_URL; AWS_IGNORE_CONFIGURED_ENDPOINT_URLS turns both off', async () => {
    const env = { AWS_ENDPOINT_URL_STS: 'http://sts.local:1111', AWS_ENDPOINT_URL: 'http://all.local:2222', AWS_REGION: 'us-west-2' };
    expect(await endpointOf({ env, endpoint: 'http://opt.local:3333' })).toMatchObject({ url: 'http://opt.local:3333/', source: 'option', signingRegion: 'us-west-2' });
    expect(await endpointOf({ env })).toMatchObject({ url: 'http://sts.local:1111/', source: 'AWS_ENDPOINT_URL_STS' });
    expect(await endpointOf({ env: { ...env, AWS_ENDPOINT_URL_STS: undefined } })).toMatchObject({ url: 'http://all.local:2222/', source: 'AWS_ENDPOINT_URL' });
    expect(await endpointOf({ env: { ...env, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' } })).toMatchObject({ url: 'https://sts.us-west-2.amazonaws.com/', source: 'regional' });
  });

  it('bad endpoint or region values fail with the setting named, and nothing is sent', async () => {
    await expect(new StsClient({ env: { AWS_ENDPOINT_URL_STS: 'not a url' }, credentials: USER }).getCallerIdentity()).rejects.toThrow(/AWS_ENDPOINT_URL_STS is not a valid URL/);
    await expect(new StsClient({ env: {}, endpoint: 'ftp://x' }).resolveEndpoint()).rejects.toThrow(/endpoint option must be an http\(s\) URL/);
    await expect(new StsClient({ env: {}, region: 'us west 2' }).resolveEndpoint()).rejects.toThrow(/region "us west 2" is not a valid region name/);
  });

  it('calls really go to AWS_ENDPOINT_URL_STS and are signed for the resolved region', async () => {
    const s = await server({ region: 'ap-northeast-1' });
    const client = new StsClient({ env: { AWS_ENDPOINT_URL_STS: s.url, AWS_DEFAULT_REGION: 'ap-northeast-1' }, credentials: USER });
    await client.getCallerIdentity();
    expect(s.requests[0]).toMatchObject({ signingRegion: 'ap-northeast-1', signatureValid: true });
    // A client signing for another region is refused by a server that checks the scope.
    const other = new StsClient({ env: { AWS_ENDPOINT_URL: s.url, AWS_REGION: 'us-west-2' }, credentials: USER, maxRetries: 0 });
    await expect(other.getCallerIdentity()).rejects.toMatchObject({ code: 'SignatureDoesNotMatch' });
  });
});
