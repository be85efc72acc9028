import { describe, expect, it } from 'vitest';
import { configuredEndpoint } from '../../../src/providers/profile/endpoint.js';
import { readConformanceJson } from '../../config/conformance.js';

interface Suite {
  profiles: Record<string, Record<string, string>>;
  services: Record<string, Record<string, Record<string, string>>>;
  client_configs: Record<string, { endpoint_url?: string; ignore_configured_endpoint_urls?: boolean }>;
  environments: Record<string, Record<string, string>>;
  endpointUrlTests: { name: string; profile: string; client_config: string; environment: string; service: string; output: { endpointUrl: string } }[];
}

const { testSuites } = readConformanceJson<{ testSuites: Suite[] }>('botocore/configured_endpoint_urls/profile-tests.json');

/**
 * botocore's configured-endpoint vectors, with the service renamed to sts (s3 -> sts in env names and
 * `[services]` keys) as the conformance README says. `configuredEndpoint` answers "what did the user
 * configure"; the code-level endpoint (client config) is applied by the caller, and "nothing
 * configured" means the default regional endpoint (the vectors' `https://s3.fake-region-10...`).
 */
describe('configuredEndpoint: botocore configured_endpoint_urls vectors (s3 -> sts)', () => {
  const rename = (s: string) => s.replace(/s3/gi, (m) => (m === 'S3' ? 'STS' : 'sts'));
  const cases = testSuites.flatMap((suite) => suite.endpointUrlTests.map((test) => ({ suite, test })));
  it('reads all 39 vectors', () => expect(cases).toHaveLength(39));

  for (const { suite, test } of cases) {
    it(test.name, () => {
      const serviceId = test.service === 's3' ? 'sts' : test.service;
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries(suite.environments[test.environment] ?? {})) env[rename(k)] = rename(v);
      const services: Record<string, Record<string, Record<string, string>>> = {};
      for (const [name, section] of Object.entries(suite.services)) {
        services[name] = Object.fromEntries(Object.entries(section).map(([id, keys]) => [rename(id), Object.fromEntries(Object.entries(keys).map(([k, v]) => [k, rename(v)]))]));
      }
      const client = suite.client_configs[test.client_config] ?? {};
      const found = configuredEndpoint({ serviceId, env, profile: suite.profiles[test.profile], services });
      // The caller's rule: code beats everything, even when configured endpoints are ignored.
      const ignoredByClient = client.ignore_configured_endpoint_urls === true;
      const chosen = client.endpoint_url ?? (ignoredByClient ? undefined : found?.url) ?? `https://${serviceId}.fake-region-10.amazonaws.com`;
      expect(chosen).toBe(rename(test.output.endpointUrl));
    });
  }

  it('says which setting it used', () => {
    const services = { t: { sts: { endpoint_url: 'http://svc' } } };
    const profile = { services: 't', endpoint_url: 'http://global' };
    expect(configuredEndpoint({ serviceId: 'sts', env: {}, profile, services })).toEqual({
      url: 'http://svc',
      source: 'services-section',
      setting: '[services t] sts.endpoint_url',
    });
    expect(configuredEndpoint({ serviceId: 'sts', env: { AWS_ENDPOINT_URL_STS: ' ' }, profile: { endpoint_url: 'http://global' }, services: {} })?.source).toBe('profile');
    expect(configuredEndpoint({ serviceId: 'sts', env: {}, profile: undefined, services: {} })).toBeUndefined();
  });
});
