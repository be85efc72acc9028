import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSharedConfig } from '../../../src/config/files.js';
import { resolveImdsEndpoint } from '../../../src/providers/metadata/endpoint.js';
import { MetadataConfigError } from '../../../src/providers/metadata/errors.js';
import { readConformanceJson } from '../../config/conformance.js';

interface EndpointCase {
  docs: string;
  env: Record<string, string>;
  fs: Record<string, string>;
  endpoint_override?: string;
  mode_override?: string;
  result: { Ok: string } | { Err: string };
}

const { tests } = readConformanceJson<{ tests: EndpointCase[] }>('smithy-rs/imds-config/imds-endpoint-tests.json');
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** Writes the case's `fs` into a temp dir and reads the profile with the project's shared-config loader. */
async function profileOf(c: EndpointCase): Promise<{ env: Record<string, string>; profile: Record<string, string> }> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'credchain-imds-endpoint-'));
  dirs.push(root);
  for (const [file, text] of Object.entries(c.fs)) {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), text);
  }
  const env: Record<string, string> = { HOME: root, AWS_SHARED_CREDENTIALS_FILE: path.join(root, 'no-credentials-file') };
  for (const [key, value] of Object.entries(c.env)) {
    env[key] = key === 'AWS_CONFIG_FILE' ? path.join(root, value) : value;
  }
  env.AWS_CONFIG_FILE ??= path.join(root, 'no-config-file');
  const config = await loadSharedConfig({ env });
  return { env, profile: config.profile ?? {} };
}

describe('smithy-rs imds-endpoint-tests.json', () => {
  it('has the 14 cases the README promises', () => {
    expect(tests).toHaveLength(14);
  });

  for (const c of tests) {
    it(c.docs, async () => {
      const { env, profile } = await profileOf(c);
      const resolve = () => `${resolveImdsEndpoint({ endpoint: c.endpoint_override, mode: c.mode_override, env, profile })}/latest/api/token`;
      if ('Ok' in c.result) {
        expect(resolve()).toBe(c.result.Ok);
      } else {
        // Outcome class, not Rust's wording (README); the mode message keeps Rust's phrase anyway.
        expect(resolve).toThrow(MetadataConfigError);
        if (c.result.Err.includes('endpoint mode')) expect(resolve).toThrow(c.result.Err);
      }
    });
  }
});

describe('resolveImdsEndpoint', () => {
  const none = { env: {}, profile: {} };

  it('names the setting at fault', () => {
    expect(() => resolveImdsEndpoint({ ...none, profile: { ec2_metadata_service_endpoint: 'nope' } })).toThrow(
      /profile setting ec2_metadata_service_endpoint: `nope` is not a valid URI/,
    );
    expect(() => resolveImdsEndpoint({ ...none, mode: 'IPv5' })).toThrow(/option endpointMode: `IPv5` is not a valid endpoint mode/);
    expect(() => resolveImdsEndpoint({ ...none, endpoint: 'ftp://x' })).toThrow(/option endpoint: .*http:\/\/ or https:\/\//);
  });

  it('treats blank values as unset and keeps a path prefix without its trailing slash', () => {
    expect(resolveImdsEndpoint({ env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: '  ' }, profile: { ec2_metadata_service_endpoint_mode: 'ipv6' } })).toBe(
      'http://[fd00:ec2::254]',
    );
    expect(resolveImdsEndpoint({ ...none, endpoint: 'http://127.0.0.1:8080/' })).toBe('http://127.0.0.1:8080');
    expect(resolveImdsEndpoint({ ...none, endpoint: 'http://proxy:81/imds/' })).toBe('http://proxy:81/imds');
  });

  it('refuses endpoints that carry user info or a query', () => {
    expect(() => resolveImdsEndpoint({ ...none, endpoint: 'http://user:pw@host/' })).toThrow(MetadataConfigError);
    try {
      resolveImdsEndpoint({ ...none, endpoint: 'http://user:pw@host/' });
    } catch (error) {
      expect((error as Error).message).not.toContain('pw');
    }
  });
});
