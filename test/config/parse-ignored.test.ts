import { describe, expect, it } from 'vitest';
import { awsCliConfigProfileName, parseSharedFile } from '../../src/config/parse.js';

describe('profile headers not taken as profiles', () => {
  it('are recorded with file, line, reason and the name the AWS CLI would read', () => {
    const text = '[profile ok]\nregion = x\n[profile "my profile"]\nregion = y\n[loose]\nregion = z\n[sso-session "a b"]\n';
    const parsed = parseSharedFile(text, 'config', '/h/.aws/config');
    expect(Object.keys(parsed.profiles)).toEqual(['ok']);
    expect(parsed.ignoredProfiles).toEqual([
      { names: ['"my profile"', 'my profile'], awsCliName: 'my profile', filePath: '/h/.aws/config', lineNumber: 3, reason: expect.stringContaining('may only hold') },
      { names: ['loose'], awsCliName: undefined, filePath: '/h/.aws/config', lineNumber: 5, reason: expect.stringContaining('[profile <name>]') },
    ]);
  });

  it('in the credentials file keep the name as written, which is what the AWS CLI reads', () => {
    const parsed = parseSharedFile('[my profile]\naws_access_key_id = A\n', 'credentials', '/h/.aws/credentials');
    expect(parsed.ignoredProfiles).toEqual([
      expect.objectContaining({ names: ['my profile'], awsCliName: 'my profile', lineNumber: 1 }),
    ]);
  });

  it.each([
    ['profile "my profile"', 'my profile'],
    ["profile 'x y'", 'x y'],
    ['profile my\\ profile', 'my profile'],
    ['profile "a\\"b"', 'a"b'],
    ['profile a"b c"', 'ab c'],
    ['profile my profile', undefined], // three words: botocore skips it too
    ['profile "unclosed', undefined],
    ['profiles "x"', undefined],
  ])('botocore reads the config header [%s] as %s', (header, name) => {
    expect(awsCliConfigProfileName(header)).toBe(name);
  });
});
