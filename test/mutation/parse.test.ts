import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigParseError } from '../../src/config/errors.js';
import { awsCliConfigProfileName, mergeProfiles, parseSharedFile, parseSubProperties, type FileKind } from '../../src/config/parse.js';

// Tests added from the surviving mutants of `node bench/mutation.mjs config/parse` (see
// /work/notes/mutation-config_parse.md): comment and blank rules, the in-place fast paths, the
// `[default]` / `[profile default]` rule, warning texts, printing, and botocore's header split.

const FILE = '/home/u/.aws/config';

/** The parse, plus the numbers of the lines that left the in-place fast path. */
function parse(text: string, kind: FileKind = 'config') {
  const generalLines: number[] = [];
  const parsed = parseSharedFile(text, kind, FILE, (n) => generalLines.push(n));
  return { ...parsed, generalLines };
}

/** The one-line value of `k` in `[profile p]`. */
function valueOf(line: string): string | undefined {
  return parse(`[profile p]\n${line}`).profiles.p!.k;
}

function parseError(text: string, kind: FileKind = 'config'): ConfigParseError {
  try {
    parseSharedFile(text, kind, FILE);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigParseError);
    return error as ConfigParseError;
  }
  throw new Error('no error');
}

describe('the in-place fast path takes the usual lines (the parse speed depends on it)', () => {
  it('config headers and key = value lines, with blanks and tabs, upper case, empty values, empty lines and CRLF', () => {
    const lines = [
      '[profile dev]',
      'region = us-east-1',
      'output=json',
      'Role_Arn\t=\tarn:aws:iam::123456789012:role/x  ',
      'S3 =',
      'mfa_serial =  \t',
      '[ profile\tdefault ]\t',
      'a-b.c/d%e@f:g+h_9 = v w = x',
      '[sso-session corp]',
      'sso_region = eu-west-1',
      '',
      '[services  local]',
      'sts =',
      '[profile A.B]',
      'x = 1',
    ];
    for (const eol of ['\n', '\r\n']) {
      const parsed = parse(lines.join(eol) + eol);
      expect(parsed.generalLines).toEqual([]);
      // The last line, with no newline after it, takes the general path (same result).
      expect(parse(lines.join(eol))).toEqual({ ...parsed, generalLines: [lines.length] });
      expect({ ...parsed.profiles }).toEqual({
        dev: { region: 'us-east-1', output: 'json', role_arn: 'arn:aws:iam::123456789012:role/x', s3: '', mfa_serial: '' },
        default: { 'a-b.c/d%e@f:g+h_9': 'v w = x' },
        'A.B': { x: '1' },
      });
      expect({ ...parsed.ssoSessions }).toEqual({ corp: { sso_region: 'eu-west-1' } });
      expect({ ...parsed.services }).toEqual({ local: { sts: '' } });
      expect(parsed.warnings).toEqual([]);
    }
  });

  it('credentials headers, including [default] and upper-case names', () => {
    const parsed = parse('[default]\naws_access_key_id = AKID\n[ Dev-1 ]\naws_access_key_id=AKID2\n', 'credentials');
    expect(parsed.generalLines).toEqual([]);
    expect({ ...parsed.profiles }).toEqual({ default: { aws_access_key_id: 'AKID' }, 'Dev-1': { aws_access_key_id: 'AKID2' } });
  });

  it('lines before and after one with a comment stay on it; that line and the header with a comment do not', () => {
    const parsed = parse('[profile a]\nx = 1\ny = 2 # two\nz = 3\nw = 4 ; four\nv = 5\n[profile b] # b\nu = 6\n');
    expect(parsed.generalLines).toEqual([3, 5, 7]);
    expect({ ...parsed.profiles }).toEqual({ a: { x: '1', y: '2', z: '3', w: '4', v: '5' }, b: { u: '6' } });
  });

  it('a value with `#` or `;` glued to it keeps it (no whitespace before: not a comment)', () => {
    const parsed = parse('[profile a]\nx = a#b\ny = c;d\nz = e');
    expect(parsed.profiles.a).toEqual({ x: 'a#b', y: 'c;d', z: 'e' });
  });
});

describe('comments and blanks (the reference parser: smithy-rs env_config/parse.rs)', () => {
  it.each([
    ['k = value # comment', 'value'],
    ['k = value ; comment', 'value'],
    ['k = value\t# comment', 'value'],
    ['k = value#not', 'value#not'],
    ['k = value;not', 'value;not'],
    ['k =#x', '#x'],
    ['k = ;x', ''],
    ['k = a # b # c', 'a'],
    ['k = a;b ;c', 'a;b'],
    // Any whitespace before `#`/`;` makes a comment, but only spaces and tabs are trimmed.
    ['k = a\u00a0# c', 'a\u00a0'],
    ['k = a\v; c', 'a\v'],
    ['k = a\u3000#', 'a\u3000'],
    ['k =  \t spaced \t ', 'spaced'],
    ['k\t=\t\t# only a comment', ''],
  ])('%j has the value %j', (line, value) => {
    expect(valueOf(line)).toBe(value);
  });

  it('a header ends at the first `#` or `;`, with or without whitespace before it', () => {
    const parsed = parse('[profile a]# c\nx = 1\n[profile b];c\ny = 2\n[ profile c ] ; c\nz = 3\n[sso-session s]#c\nr = 4');
    expect({ ...parsed.profiles }).toEqual({ a: { x: '1' }, b: { y: '2' }, c: { z: '3' } });
    expect({ ...parsed.ssoSessions }).toEqual({ s: { r: '4' } });
  });

  it('a `#` or `;` inside a header cuts it before the `]`', () => {
    for (const header of ['[profile a#b]', '[profile a;b]', '[a # b]']) {
      expect(parseError(`${header}\nx = 1`).message).toBe(`Could not parse ${FILE}, line 1: Profile definition must end with ']'`);
    }
  });

  it('comment lines start with `#` or `;`, blank lines may hold blanks; neither ends a property', () => {
    const parsed = parse('# top\n; top\n[profile a]\n#x = 1\n;y = 2\n\n \t\nz = 3\n  # indented, but a continuation');
    expect(parsed.profiles.a).toEqual({ z: '3\n# indented, but a continuation' });
  });

  it('a file may start with empty lines', () => {
    expect(parse('\n\n[profile a]\nx = 1').profiles.a).toEqual({ x: '1' });
    expect(parse('\r\n[profile a]\nx = 1').profiles.a).toEqual({ x: '1' });
  });

  it('sub-property lines: a `;` or `#` that starts the name is part of it; after whitespace it is a comment', () => {
    const parsed = parse('[services s]\nsts =\n  ;odd = 1\n  endpoint_url = http://x # c\n  #also = 2');
    expect(parseSubProperties(parsed.services.s!.sts!)).toEqual({ ';odd': '1', endpoint_url: 'http://x', '#also': '2' });
  });

  it('blank is only space and tab: other whitespace is part of names and values', () => {
    const parsed = parse('[profile a]\nx = \u00a0v\u00a0\ny = \vw\f\nz = 1\r\r\n');
    expect(parsed.profiles.a).toEqual({ x: '\u00a0v\u00a0', y: '\vw\f', z: '1\r' });
  });
});

describe('names', () => {
  it('keys with a character outside the name set (non-ASCII too) are ignored with a warning naming file and line', () => {
    const parsed = parse('[profile a]\nrégion = x\na\u0080b = y\nk\u00ffey = z\nok = 1', 'config');
    expect(parsed.profiles.a).toEqual({ ok: '1' });
    expect(parsed.warnings).toEqual([2, 3, 4].map((n) => `${FILE}, line ${n}: key ignored because its name is not valid`));
  });

  it('invalid keys inside an ignored section add no warning of their own', () => {
    const parsed = parse('[profile bad!]\nbad key = 1\n[loose]\nbad key = 2');
    expect(parsed.warnings).toEqual([
      `${FILE}, line 1: section ignored because the name may only hold letters, digits and - / . % @ _ : +`,
      `${FILE}, line 3: section ignored because config file profiles must be written \`[profile <name>]\``,
    ]);
  });

  it('an empty section name is ignored, with a warning', () => {
    const credentials = parse('[ ]\nx = 1\n[]\ny = 2\n', 'credentials');
    expect(Object.keys(credentials.profiles)).toEqual([]);
    expect(credentials.warnings).toHaveLength(2);
    const config = parse('[profile  ]\nx = 1\n[sso-session ]\ny = 2\n');
    expect(Object.keys(config.profiles)).toEqual([]);
    expect(Object.keys(config.ssoSessions)).toEqual([]);
    expect(config.warnings).toHaveLength(2);
  });

  it('section names with a character outside the name set (non-ASCII too) are ignored', () => {
    const config = parse('[profile é]\nx = 1\n[profile a\u0080]\nx = 2\n[sso-session s\u00ff]\nx = 3\n[services s t]\nx = 4');
    expect(Object.keys(config.profiles)).toEqual([]);
    expect(Object.keys(config.ssoSessions)).toEqual([]);
    expect(Object.keys(config.services)).toEqual([]);
    expect(config.warnings).toHaveLength(4);
    expect(config.warnings[3]).toBe(`${FILE}, line 7: section ignored because the name may only hold letters, digits and - / . % @ _ : +`);
    const credentials = parse('[é]\nx = 1\n[a\u0080]\nx = 2', 'credentials');
    expect(Object.keys(credentials.profiles)).toEqual([]);
    expect(credentials.ignoredProfiles.map((p) => p.names)).toEqual([['é'], ['a\u0080']]);
  });

  it('a config header the AWS CLI skips too is recorded under its own name only', () => {
    const parsed = parse('[profile my profile]\nx = 1\n[profile bad!]\nx = 2');
    expect(parsed.ignoredProfiles).toEqual([
      expect.objectContaining({ names: ['my profile'], awsCliName: undefined, lineNumber: 1 }),
      expect.objectContaining({ names: ['bad!'], awsCliName: 'bad!', lineNumber: 3 }),
    ]);
  });

  it('keys that share a prefix (and a slot of the key cache) stay distinct', () => {
    const keys = ['region', 'regiona0', 'regionb0', 'reg', ...Array.from({ length: 3000 }, (_, i) => `key${i}`)];
    const text = ['[profile a]', ...keys.map((k, i) => `${k} = ${i}`), '[profile b]', ...keys.map((k, i) => `${k} = ${i}`)].join('\n');
    const parsed = parse(text);
    const expected = Object.fromEntries(keys.map((k, i) => [k, String(i)]));
    expect({ ...parsed.profiles.a }).toEqual(expected);
    expect({ ...parsed.profiles.b }).toEqual(expected);
  });
});

describe('[default] and [profile default] in a config file', () => {
  it('[profile default] hides every [default], with a warning naming the first [default] line', () => {
    const parsed = parse('[profile x]\na = 1\n[default]\nb = 2\n[profile default]\nc = 3\n[default]\nd = 4');
    expect(parsed.profiles.default).toEqual({ c: '3' });
    expect(parsed.warnings).toEqual([`${FILE}, line 3: [default] ignored because [profile default] takes priority`]);
  });

  it('also when [profile default] carries a comment, whichever comes first', () => {
    for (const text of ['[profile default] # main\nc = 3\n[default]\nb = 2', '[default]\nb = 2\n[profile default] ; main\nc = 3']) {
      const parsed = parse(text);
      expect(parsed.profiles.default).toEqual({ c: '3' });
      expect(parsed.warnings).toHaveLength(1);
    }
  });

  it('[default] stays when the only other defaults are an sso-session or services section', () => {
    const parsed = parse('[default]\nb = 2\n[sso-session default]\ns = 1\n[services default]\nt =\n[profile other]\nc = 3\n[profile more] # c\nd = 4');
    expect(parsed.profiles.default).toEqual({ b: '2' });
    expect(parsed.ssoSessions.default).toEqual({ s: '1' });
    expect(parsed.warnings).toEqual([]);
  });

  it('[default] merges with a later [default] (one warning, the first line)', () => {
    const parsed = parse('[default]\nb = 2\n[default] # again\nc = 3');
    expect(parsed.profiles.default).toEqual({ b: '2', c: '3' });
    expect(parse('[profile default]\nx = 1\n[default]\nb = 2\n[default]\nc = 3').warnings).toEqual([
      `${FILE}, line 3: [default] ignored because [profile default] takes priority`,
    ]);
  });

  it('sso-session and services headers with a comment or odd blanks are read too', () => {
    const parsed = parse('[sso-session corp] # c\nsso_region = x\n[services\tlocal] ; c\nsts =\n  endpoint_url = http://h');
    expect({ ...parsed.ssoSessions }).toEqual({ corp: { sso_region: 'x' } });
    expect(parseSubProperties(parsed.services.local!.sts!)).toEqual({ endpoint_url: 'http://h' });
  });
});

describe('errors name the file and the line', () => {
  it.each([
    ['x = 1', 1, 'Expected a profile definition before the first property'],
    ['  x = 1', 1, 'Expected a profile definition before this continuation line'],
    ['[profile a]\n  x', 2, 'Expected a property definition, found continuation'],
    ['[profile a]\ns3 =\n  bare', 3, "Expected an '=' sign defining a sub-property"],
    ['[profile a]\ns3 =\n  = 1', 3, 'Sub-property did not have a name'],
    ['[profile a]\nno equals', 2, "Expected an '=' sign defining a property"],
    ['[profile a]\n = 1', 2, 'Expected a property definition, found continuation'],
    ['[profile a]\n= 1', 2, 'Property did not have a name'],
    ['[profile a\nx = 1', 1, "Profile definition must end with ']'"],
    ['[profile a b\nx = 1', 1, "Profile definition must end with ']'"],
    ['[a b\nx = 1', 1, "Profile definition must end with ']'"],
    ['[profile a)\nx = 1', 1, "Profile definition must end with ']'"],
    // Lines a newline follows (the fast path's) as well as last lines.
    ['x = 1\n[profile a]', 1, 'Expected a profile definition before the first property'],
    ['\nx=1\n', 2, 'Expected a profile definition before the first property'],
  ])('%j: line %i, %s', (text, line, problem) => {
    const error = parseError(text);
    expect(error.message).toBe(`Could not parse ${FILE}, line ${line}: ${problem}`);
    expect(error.lineNumber).toBe(line);
  });
});

describe('printing', () => {
  const text = '[profile a]\naws_access_key_id = AKID\naws_secret_access_key = SECRET1\naws_session_token = TOKEN1\naws_security_token = TOKEN2\nregion = r\n[profile b]\nx = 1';
  const masked = { a: { aws_access_key_id: 'AKID', aws_secret_access_key: '****', aws_session_token: '****', aws_security_token: '****', region: 'r' }, b: { x: '1' } };

  it('masks secret keys, the legacy aws_security_token too, in inspect and JSON', () => {
    const { profiles } = parse(text);
    for (const printed of [inspect(profiles), inspect(profiles, { depth: Infinity }), JSON.stringify(profiles), inspect(profiles.a), JSON.stringify(profiles.a)]) {
      expect(printed).not.toMatch(/SECRET1|TOKEN1|TOKEN2/);
    }
    expect(JSON.parse(JSON.stringify(profiles))).toEqual(masked);
    expect(profiles.a!.aws_security_token).toBe('TOKEN2');
  });

  it('prints as the plain (masked) objects would, at every depth and nesting, with the caller options', () => {
    const { profiles } = parse(text);
    for (const depth of [null, 0, 1, 2, 3]) {
      for (const [ours, plain] of [
        [profiles, masked],
        [{ outer: { profiles } }, { outer: { profiles: masked } }],
        [profiles.a, masked.a],
        [[{ section: profiles.a }], [{ section: masked.a }]],
      ] as const) {
        expect(inspect(ours, { depth })).toBe(inspect(plain, { depth }));
        expect(inspect(ours, { depth, colors: true, sorted: true })).toBe(inspect(plain, { depth, colors: true, sorted: true }));
      }
    }
  });

  it('a profile named like a secret key prints its section (only section values are masked)', () => {
    const { profiles } = parse('[profile aws_secret_access_key]\nregion = r');
    expect(inspect(profiles)).toBe(inspect({ aws_secret_access_key: { region: 'r' } }));
  });

  it('a merged profile prints masked too', () => {
    const merged = mergeProfiles(parse('[profile a]\nregion = r').profiles, parse('[a]\naws_secret_access_key = SECRET1', 'credentials').profiles);
    expect(inspect(merged)).toBe(inspect({ a: { region: 'r', aws_secret_access_key: '****' } }));
  });
});

describe('awsCliConfigProfileName (botocore: shlex.split of the header)', () => {
  it.each([
    ['profile a\\', undefined], // shlex: "No escaped character"
    ['profile \\a', 'a'],
    ['profile a\\ b', 'a b'],
    ['profile "a\\b"', 'a\\b'], // in double quotes a backslash escapes only `"` and `\`
    ['profile "a\\\\b"', 'a\\b'],
    ['profile "a\\"b"', 'a"b'],
    ['profile "a\\\\"', 'a\\'],
    ['profile "\\\\\\""', '\\"'],
    ["profile 'a\\\"b'", 'a\\"b'], // in single quotes nothing is escaped
    ['profile a\u00a0b', 'a\u00a0b'], // shlex's whitespace is space, tab, CR, LF only
    ['profile a\vb', 'a\vb'],
    ['profile a\rb', undefined],
    ['profile\t\t"a b"', 'a b'],
    ['profile  "a b"', 'a b'],
    ['profile a\t', 'a'],
    ['profile ""', ''],
  ])('%j -> %j', (header, name) => {
    expect(awsCliConfigProfileName(header)).toBe(name);
  });
});

describe('sub-properties after a property line with a comment (mutation)', () => {
  it('an empty value with a comment still opens sub-properties, whose lines need an `=`', () => {
    const parse = () => parseSharedFile('[profile a]\ns3 = # nested settings follow\n  nosign\n', 'config', '/cfg');
    expect(parse).toThrow(ConfigParseError);
    expect(parse).toThrow("Could not parse /cfg, line 3: Expected an '=' sign defining a sub-property");
    const ok = parseSharedFile('[profile a]\ns3 = # nested settings follow\n  max_concurrent_requests = 20\n', 'config', '/cfg');
    expect(ok.profiles.a?.s3).toBe('\nmax_concurrent_requests = 20');
  });
});
