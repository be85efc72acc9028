import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { fromEnv, fromStatic, CredentialsError, chain, StsClient } from '../src/index.js';
import { maskUrl } from '../src/credentials.js';
import { httpRequest } from '../src/http/request.js';
import { resolveImdsEndpoint } from '../src/providers/metadata/endpoint.js';
import { fromInstanceMetadata } from '../src/providers/metadata/instance.js';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY';
const TOKEN = 'FwoGZXIvYXdzEXAMPLESESSIONTOKEN';

describe('nothing we return or throw prints a secret', () => {
  it('masks credentials in inspect, String, template literals and JSON', async () => {
    const c = await fromStatic({ accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: SECRET, sessionToken: TOKEN })();
    for (const printed of [inspect(c), inspect({ nested: { c } }, { depth: 5 }), String(c), `${c}`, JSON.stringify(c), JSON.stringify({ c })]) {
      expect(printed).not.toContain(SECRET);
      expect(printed).not.toContain(TOKEN);
      expect(printed).toContain('****MPLE');
    }
    // property access stays plain so SDKs work unchanged
    expect(c.secretAccessKey).toBe(SECRET);
    expect(c.sessionToken).toBe(TOKEN);
    expect(Object.keys(c).sort()).toEqual(['accessKeyId', 'secretAccessKey', 'sessionToken']);
  });

  it('errors print name and message only', async () => {
    const e = await chain(fromEnv({ env: { AWS_ACCESS_KEY_ID: 'A', AWS_SECRET_ACCESS_KEY: '' } }))().catch((x) => x);
    expect(e).toBeInstanceOf(CredentialsError);
    const json = JSON.parse(JSON.stringify(e));
    expect(json).toEqual({ name: 'CredentialsError', message: e.message, providerName: 'env' });
    const withCause = new CredentialsError('wrapped', { cause: { secretAccessKey: SECRET } });
    expect(inspect(withCause)).not.toContain(SECRET);
    expect(JSON.stringify(withCause)).not.toContain(SECRET);
    expect(String(withCause)).toBe('CredentialsError: wrapped');
  });
});

describe('URL user-info is masked wherever a URL is printed', () => {
  const PASS = 'hunter2-PASSWORD';
  const USER = 'alice-USERNAME';
  /** Everything an error or object can print. */
  const printed = (x: unknown) => [inspect(x, { depth: 8 }), JSON.stringify(x) ?? '', x instanceof Error ? `${x.message} ${String(x)}` : String(x)];
  const failureOf = (p: Promise<unknown>) => p.then(() => expect.unreachable('should fail'), (e: unknown) => e as Error);

  it('maskUrl: user-info becomes ****, parsed or not; nothing else changes', () => {
    expect(maskUrl(`https://${USER}:${PASS}@sts.example.com:8443/base?x=1#f`)).toBe('https://****@sts.example.com:8443/base?x=1#f');
    expect(maskUrl(new URL(`http://${USER}:${PASS}@127.0.0.1:1/`))).toBe('http://****@127.0.0.1:1/');
    expect(maskUrl(`https://${USER}@host`)).toBe('https://****@host');
    expect(maskUrl(`https://u:p@ss@host/a@b`)).toBe('https://****@host/a@b'); // the authority ends at the first /
    expect(maskUrl(`https://${USER}:${PASS}@exa mple.com`)).toBe('https://****@exa mple.com'); // does not parse
    expect(maskUrl(`http://${USER}:${PASS}@[::1`)).toBe('http://****@[::1');
    expect(maskUrl(`${USER}:${PASS}@host`)).toBe('****@host'); // no scheme
    expect(maskUrl('https://sts.amazonaws.com/')).toBe('https://sts.amazonaws.com/');
    expect(maskUrl('http://169.254.169.254/latest?a=b@c')).toBe('http://169.254.169.254/latest?a=b@c');
  });

  it('StsClient: util.inspect and JSON.stringify show the endpoint without its user-info', () => {
    const client = new StsClient({ endpoint: `https://${USER}:${PASS}@sts.example.com/`, region: 'us-west-2', env: {} });
    for (const text of [inspect(client), inspect({ nested: { client } }, { depth: 5 }), JSON.stringify(client), JSON.stringify({ client })]) {
      expect(text).not.toContain(PASS);
      expect(text).not.toContain(USER);
      expect(text).toContain('https://****@sts.example.com/');
    }
  });

  it('STS endpoint errors (option and environment) name the endpoint, masked', async () => {
    const credentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: SECRET };
    const cases: [Record<string, string>, Record<string, string>, RegExp][] = [
      [{ endpoint: `https://${USER}:${PASS}@exa mple.com` }, {}, /the endpoint option is not a valid URL \(`https:\/\/\*\*\*\*@exa mple\.com`\)/],
      [{ endpoint: `ftp://${USER}:${PASS}@host` }, {}, /the endpoint option must be an http\(s\) URL \(got `ftp:\/\/\*\*\*\*@host`\)/],
      [{}, { AWS_ENDPOINT_URL_STS: `http://${USER}:${PASS}@[::1` }, /AWS_ENDPOINT_URL_STS is not a valid URL \(`http:\/\/\*\*\*\*@\[::1`\)/],
      [{}, { AWS_ENDPOINT_URL: `${USER}:${PASS}@host` }, /AWS_ENDPOINT_URL must be an http\(s\) URL \(got `\*\*\*\*@host`\)/],
    ];
    for (const [options, env, message] of cases) {
      const error = await failureOf(new StsClient({ ...options, env, region: 'us-west-2', credentials, maxRetries: 0 }).getCallerIdentity());
      expect(error.message).toMatch(message);
      for (const text of printed(error)) {
        expect(text).not.toContain(PASS);
        expect(text).not.toContain(USER);
      }
    }
  });

  it('HTTP request errors and STS network errors print origin and path only', async () => {
    const url = `http://${USER}:${PASS}@127.0.0.1:1/base?q=1`;
    const httpError = await failureOf(httpRequest({ url, timeoutMs: 2000 }));
    expect(httpError.message).toMatch(/^GET http:\/\/127\.0\.0\.1:1\/base failed/);
    const stsError = await failureOf(new StsClient({ endpoint: url, region: 'us-west-2', env: {}, maxRetries: 0, credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: SECRET } }).getCallerIdentity());
    expect(stsError.message).toContain('POST http://127.0.0.1:1/base failed');
    for (const error of [httpError, stsError])
      for (const text of printed(error)) {
        expect(text).not.toContain(PASS);
        expect(text).not.toContain(USER);
      }
  });

  it('instance metadata endpoint errors (option, environment, profile) show the endpoint masked', async () => {
    const bad = [`ftp://${USER}:${PASS}@host`, `https://${USER}:${PASS}@exa mple.com`, `http://${USER}:${PASS}@169.254.169.254`];
    for (const value of bad) {
      for (const input of [{ endpoint: value, env: {}, profile: {} }, { env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: value }, profile: {} }, { env: {}, profile: { ec2_metadata_service_endpoint: value } }]) {
        let error: Error | undefined;
        try {
          resolveImdsEndpoint(input);
        } catch (e) {
          error = e as Error;
        }
        expect(error, value).toBeInstanceOf(Error);
        for (const text of printed(error)) {
          expect(text).not.toContain(PASS);
          expect(text).not.toContain(USER);
        }
      }
      const fromProvider = await failureOf(fromInstanceMetadata({ endpoint: value, env: {}, maxRetries: 0 })());
      for (const text of printed(fromProvider)) expect(text).not.toContain(PASS);
    }
  });
});

