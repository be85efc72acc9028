import { describe, expect, it } from 'vitest';
import { ConfigParseError } from '../../src/config/errors.js';
import { mergeProfiles, parseSharedFile, parseSubProperties } from '../../src/config/parse.js';
import { CredentialsError } from '../../src/errors.js';
import { readConformanceJson } from './conformance.js';

interface ParserCase {
  name: string;
  input: { configFile?: string; credentialsFile?: string };
  output: {
    config?: { profiles: Record<string, Record<string, string>>; sso_sessions?: Record<string, Record<string, string>> };
    errorContaining?: string;
  };
}

const cases = readConformanceJson<{ tests: ParserCase[] }>('smithy-rs/profile-parser-tests.json').tests;

/** Parses both inputs the way a loader would and merges them (credentials win). */
function parseCase(input: ParserCase['input']) {
  const config = parseSharedFile(input.configFile ?? '', 'config', '/cfg/config');
  const credentials = parseSharedFile(input.credentialsFile ?? '', 'credentials', '/cfg/credentials');
  return { profiles: mergeProfiles(config.profiles, credentials.profiles), ssoSessions: config.ssoSessions };
}

// No case is skipped: all 65 are in scope. Errors are compared by class plus the reference's
// wording, which the parser adopts for its messages.
describe('profile-parser-tests.json (smithy-rs)', () => {
  it('has the 65 cases the README describes', () => {
    expect(cases).toHaveLength(65);
  });

  it.each(cases.map((c, i) => [`${i + 1}: ${c.name}`, c] as const))('%s', (_label, c) => {
    if (c.output.errorContaining !== undefined) {
      let error: unknown;
      try {
        parseCase(c.input);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigParseError);
      expect((error as Error).message).toContain(c.output.errorContaining);
      return;
    }
    const { profiles, ssoSessions } = parseCase(c.input);
    expect({ ...profiles }).toEqual(c.output.config!.profiles);
    if (c.output.config!.sso_sessions) expect({ ...ssoSessions }).toEqual(c.output.config!.sso_sessions);
  });
});

describe('parseSharedFile', () => {
  it('names the file and the line of a bad line and never quotes it', () => {
    const text = '[default]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key wJalrXUtnFEMI/K7MDENG\n';
    let error: unknown;
    try {
      parseSharedFile(text, 'credentials', '/home/u/.aws/credentials');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigParseError);
    expect(error).toBeInstanceOf(CredentialsError);
    const parseError = error as ConfigParseError;
    expect(parseError.filePath).toBe('/home/u/.aws/credentials');
    expect(parseError.lineNumber).toBe(3);
    expect(parseError.message).toContain('/home/u/.aws/credentials, line 3');
    expect(parseError.message).not.toContain('wJalrXUtnFEMI');
    expect(JSON.stringify(parseError)).not.toContain('wJalrXUtnFEMI');
  });

  it('counts lines the same way with CRLF endings', () => {
    expect(() => parseSharedFile('[default]\r\n\r\nkey : v\r\n', 'credentials', 'f')).toThrow(/f, line 3/);
  });

  it('splits config sections into profiles, sso-sessions and services', () => {
    const parsed = parseSharedFile(
      [
        '[default]',
        'region = us-east-1',
        '[profile dev]',
        'services = local',
        '[sso-session corp]',
        'sso_region = eu-west-1',
        '[services local]',
        'sts =',
        '  endpoint_url = http://127.0.0.1:4566',
      ].join('\n'),
      'config',
      'config',
    );
    expect(Object.keys(parsed.profiles).sort()).toEqual(['default', 'dev']);
    expect(parsed.ssoSessions.corp).toEqual({ sso_region: 'eu-west-1' });
    expect(parseSubProperties(parsed.services.local!.sts!)).toEqual({ endpoint_url: 'http://127.0.0.1:4566' });
  });

  it('treats [sso-session x] and [services x] in a credentials file as (invalid) profile names', () => {
    const parsed = parseSharedFile('[sso-session corp]\na = 1\n[services s]\nb = 2', 'credentials', 'c');
    expect(Object.keys(parsed.profiles)).toEqual([]);
    expect(Object.keys(parsed.ssoSessions)).toEqual([]);
    expect(parsed.warnings).toHaveLength(2);
  });

  it('is not fooled by prototype keys in names', () => {
    const parsed = parseSharedFile('[profile __proto__]\nconstructor = x\n', 'config', 'c');
    expect(parsed.profiles.__proto__).toEqual({ constructor: 'x' });
    expect(({} as Record<string, unknown>).constructor).toBe(Object);
  });

  it('strips a UTF-8 byte order mark', () => {
    expect(parseSharedFile('\ufeff[default]\na = 1', 'credentials', 'c').profiles.default).toEqual({ a: '1' });
  });

  it('merges without changing either input (parsed files are shared through the cache)', () => {
    const config = parseSharedFile('[profile a]\nx = 1\n[profile b]\ny = 2', 'config', 'c');
    const credentials = parseSharedFile('[a]\nx = 3\n[c]\nz = 4', 'credentials', 'd');
    const merged = mergeProfiles(config.profiles, credentials.profiles);
    expect({ ...merged }).toEqual({ a: { x: '3' }, b: { y: '2' }, c: { z: '4' } });
    expect(config.profiles.a).toEqual({ x: '1' });
    expect(credentials.profiles.a).toEqual({ x: '3' });
  });

  it('does not see inherited names as profiles or keys', () => {
    const parsed = parseSharedFile('[default]\na = 1', 'credentials', 'c');
    expect(parsed.profiles.constructor).toBeUndefined();
    expect(parsed.profiles.default!.toString).toBeUndefined();
    expect(mergeProfiles(parsed.profiles, parsed.profiles).hasOwnProperty).toBeUndefined();
  });

  it('warns about ignored keys without quoting their values', () => {
    const parsed = parseSharedFile('[profile a]\nbad key = s3cr3t\n', 'config', 'c');
    expect(parsed.profiles.a).toEqual({});
    expect(parsed.warnings.join('\n')).not.toContain('s3cr3t');
  });
});
