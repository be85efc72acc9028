import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { fromEnv, fromStatic, CredentialsError, chain } from '../src/index.js';

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
