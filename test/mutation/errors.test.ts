import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  CredentialsError,
  CredentialsNotFound,
  CredentialsNotFoundError,
  isNotFound,
  messageOf,
  shortList,
  shortText,
  terminalSafe,
} from '../../src/errors.js';

// Tests added from the surviving mutants of `npm run mutate` (bench/MUTATION.md).
describe('errors (mutation)', () => {
  it('terminalSafe: every control becomes ?, tab and newline stay unless singleLine', () => {
    const controls = ['\u0000', '\u0008', '\u000b', '\u000c', '\u000d', '\u001b', '\u001f', '\u007f', '\u0080', '\u009b', '\u009f', '\u061c', '\u200e', '\u200f', '\u202a', '\u202e', '\u2066', '\u2069'];
    for (const c of controls) {
      expect(terminalSafe(`a${c}b`)).toBe('a?b');
      expect(terminalSafe(`a${c}b`, { singleLine: true })).toBe('a?b');
    }
    expect(terminalSafe('a\tb\nc')).toBe('a\tb\nc');
    expect(terminalSafe('a\tb\nc', { singleLine: true })).toBe('a?b?c');
    expect(terminalSafe('a\tb\nc', { singleLine: false })).toBe('a\tb\nc');
    // Neighbours of the ranges are kept.
    expect(terminalSafe(' ~\u00a0\u061b\u061d\u200d\u2010\u2029\u202f\u2065\u206a', { singleLine: true })).toBe(' ~\u00a0\u061b\u061d\u200d\u2010\u2029\u202f\u2065\u206a');
    expect(terminalSafe('\u001b[31m\u001b[0m')).toBe('?[31m?[0m');
  });

  it('shortText cuts past maxChars and says how long it was', () => {
    expect(shortText('abcdef', 6)).toBe('abcdef');
    expect(shortText('abcdefg', 6)).toBe('abcdef… (7 characters)');
    expect(shortText('x'.repeat(200))).toBe('x'.repeat(200));
    expect(shortText('x'.repeat(201))).toBe(`${'x'.repeat(200)}… (201 characters)`);
  });

  it('shortList shows at most max items, each cut at 100 characters, and counts the rest', () => {
    expect(shortList(['a', 'b', 'c', 'd', 'e'])).toBe('a, b, c, d, e');
    expect(shortList(['a', 'b', 'c', 'd', 'e', 'f', 'g'])).toBe('a, b, c, d, e and 2 more');
    expect(shortList(['a', 'b', 'c'], 2)).toBe('a, b and 1 more');
    expect(shortList(['a', 'b'], 2)).toBe('a, b');
    expect(shortList(['y'.repeat(101)])).toBe(`${'y'.repeat(100)}… (101 characters)`);
    expect(shortList([])).toBe('');
  });

  it('CredentialsError: safe message, provider, cause only when given, JSON and inspect', () => {
    const error = new CredentialsError('bad\u001b[2Jthing', { providerName: 'env', cause: new Error('root') });
    expect(error.name).toBe('CredentialsError');
    expect(error.message).toBe('bad?[2Jthing');
    expect(error.providerName).toBe('env');
    expect((error.cause as Error).message).toBe('root');
    expect(error.toJSON()).toEqual({ name: 'CredentialsError', message: 'bad?[2Jthing', providerName: 'env' });
    const bare = new CredentialsError('plain');
    expect('cause' in bare).toBe(false);
    expect(bare.providerName).toBeUndefined();
    expect(bare.toJSON()).toEqual({ name: 'CredentialsError', message: 'plain' });
    expect(Object.keys(bare.toJSON())).toEqual(['name', 'message']);
    const coded = Object.assign(new CredentialsError('c'), { code: 'E1' });
    expect(coded.toJSON()).toEqual({ name: 'CredentialsError', message: 'c', code: 'E1' });
    expect(inspect(error)).toBe(error.stack);
    const noStack = new CredentialsError('nostack');
    noStack.stack = undefined;
    expect(inspect(noStack)).toBe('CredentialsError: nostack');
  });

  it('CredentialsNotFound and its alias; isNotFound; messageOf', () => {
    const nf = new CredentialsNotFound('gone');
    expect(nf.name).toBe('CredentialsNotFound');
    expect(CredentialsNotFoundError).toBe(CredentialsNotFound);
    expect(isNotFound(nf)).toBe(true);
    expect(isNotFound(new CredentialsError('x'))).toBe(false);
    expect(isNotFound('gone')).toBe(false);
    expect(messageOf(new Error('m'))).toBe('m');
    expect(messageOf('text')).toBe('text');
    expect(messageOf(42)).toBe('42');
  });
});
