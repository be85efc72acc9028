import { ConfigParseError, type IgnoredProfileSection } from './errors.js';

export type { IgnoredProfileSection } from './errors.js';

/**
 * Shared config/credentials file parsing, following the reference parser (smithy-rs
 * `env_config/parse.rs` + `normalize.rs`, encoded by `profile-parser-tests.json`).
 *
 * Not built on the `ini` package: it splits dotted section names into nested objects, treats
 * `key[]` as arrays, strips `;`/`#` comments glued to a value (the reference keeps them), has no
 * continuation lines or sub-properties and never reports an error, so it agrees with the
 * reference on only 25 of the 65 cases.
 */

/** Keys of one section, lower-cased. A sub-property block stays a string (`"\nname = value"`); see `parseSubProperties`. */
export type Section = Readonly<Record<string, string>>;
export type Sections = Readonly<Record<string, Section>>;

export type FileKind = 'config' | 'credentials';

/**
 * Parsed files are cached and shared by every caller, so they are read-only by contract (the
 * types say so); they are not frozen at run time because freezing made a parse ~1.5x slower.
 */
export interface ParsedFile {
  /** Profiles by name (`[profile x]`/`[default]` in config, `[x]` in credentials). */
  readonly profiles: Sections;
  /** `[sso-session x]` sections (config file only). */
  readonly ssoSessions: Sections;
  /** `[services x]` sections (config file only); values are raw sub-property blocks. */
  readonly services: Sections;
  /** Sections and keys that were ignored, with the reason; no values. */
  readonly warnings: readonly string[];
  /** Profile section headers that were not taken as profiles, so a "not found" can say why. */
  readonly ignoredProfiles: readonly IgnoredProfileSection[];
}


const IDENTIFIER = /^[A-Za-z0-9_\-/.%@:+]+$/;

/** Per ASCII code: 0 = not allowed in a name, 1 = allowed, 2 = allowed and upper-case (the `IDENTIFIER` set). */
const NAME_CHAR = new Uint8Array(128);
for (const ch of 'abcdefghijklmnopqrstuvwxyz0123456789_-/.%@:+') NAME_CHAR[ch.charCodeAt(0)] = 1;
for (const ch of 'ABCDEFGHIJKLMNOPQRSTUVWXYZ') NAME_CHAR[ch.charCodeAt(0)] = 2;

/** The `NAME_CHAR` class of a character code (NaN, past the text, is 0). */
function nameClass(code: number): number {
  return code < 128 ? NAME_CHAR[code]! : 0;
}

function isBlankCode(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

function isBlank(ch: string | undefined): boolean {
  return ch === ' ' || ch === '\t';
}

function trimBlanks(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isBlank(s[start])) start++;
  while (end > start && isBlank(s[end - 1])) end--;
  return s.slice(start, end);
}

/** A comment anywhere (section lines), or only after whitespace (property lines; `\s` as the reference's `is_whitespace`). */
const COMMENT = /[#;]/;
const COMMENT_AFTER_WHITESPACE = /(?<=\s)[#;]/;

/**
 * Trims and drops a trailing comment. Section lines end at the first `#`/`;`; property lines
 * only at one that follows whitespace (`value; x` keeps the `; x`).
 */
function stripComment(line: string, commentNeedsWhitespace: boolean): string {
  const trimmed = trimBlanks(line);
  const comment = trimmed.search(commentNeedsWhitespace ? COMMENT_AFTER_WHITESPACE : COMMENT);
  return comment === -1 ? trimmed : trimBlanks(trimmed.slice(0, comment));
}

type PropertyProblem = 'no-equals' | 'no-name';

function splitProperty(line: string): { key: string; value: string } | PropertyProblem {
  const prepared = stripComment(line, true);
  const eq = prepared.indexOf('=');
  if (eq < 0) return 'no-equals';
  const key = trimBlanks(prepared.slice(0, eq));
  if (key === '') return 'no-name';
  return { key, value: trimBlanks(prepared.slice(eq + 1)) };
}

type SectionKind = 'profile' | 'sso-session' | 'services';
/** Config-file section prefixes, which are also their kinds' names. */
const SECTION_PREFIXES: readonly SectionKind[] = ['profile', 'sso-session', 'services'];

/** `<prefix><whitespace><name>`; `profilefoo` has no prefix. */
function stripPrefix(header: string, prefix: string): string | undefined {
  if (!header.startsWith(prefix) || !isBlank(header[prefix.length])) return undefined;
  return header.slice(prefix.length).trim();
}

const INSPECT = Symbol.for('nodejs.util.inspect.custom');
/** Keys whose values are secrets (`aws_security_token` is the legacy token name): masked whenever a section is printed. */
const SECRET_KEYS = new Set(['aws_secret_access_key', 'aws_session_token', 'aws_security_token']);

type InspectFn = (value: unknown, options: object) => string;

/** A plain-object copy for printing, with secret values masked. Built only when something prints. */
function printable(record: Record<string, unknown>, mask: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in record) out[key] = mask && SECRET_KEYS.has(key) ? '****' : record[key];
  return out;
}

/**
 * `util.inspect` prints the plain copy in this object's place, so it gets what is left of the
 * caller's depth (`depth`, null for no limit) and the caller's other options (colors, sorting...).
 */
function inspectAs(mask: boolean) {
  return function (this: Record<string, unknown>, depth: number | null, options: object, inspect: InspectFn): string {
    return inspect(printable(this, mask), { ...options, depth });
  };
}

/**
 * Objects whose prototype has no string keys, so `profiles['constructor']` or a `[profile __proto__]`
 * section mean nothing special. Unlike `Object.create(null)` objects, V8 keeps these in fast mode
 * (measurably faster parses of large files). The prototype only prints them as plain objects
 * (a symbol key, which no file key can hit).
 */
const Dictionary = function Dictionary() {} as unknown as new () => Record<string, never>;
Dictionary.prototype = Object.freeze(Object.create(null, { [INSPECT]: { value: inspectAs(false) } }));

/**
 * The key/value record of one section. Its prototype masks `aws_secret_access_key` and
 * `aws_session_token` in `util.inspect` and `JSON.stringify`, at no cost per section (plain property
 * access is unchanged). `toJSON` cannot collide with a key: keys are lower-cased.
 */
const SectionRecord = function SectionRecord() {} as unknown as new () => Record<string, never>;
SectionRecord.prototype = Object.freeze(
  Object.create(null, {
    [INSPECT]: { value: inspectAs(true) },
    toJSON: {
      value(this: Record<string, unknown>) {
        return printable(this, true);
      },
    },
  }),
);

export function emptyRecord<T>(): Record<string, T> {
  return new Dictionary() as Record<string, T>;
}

function emptySection(): Record<string, string> {
  return new SectionRecord() as Record<string, string>;
}

/**
 * Parses one shared config or credentials file in a single pass. Throws `ConfigParseError` (file
 * and line, never the line's text) for lines the reference rejects; ignores invalid section and
 * key names with a warning, as the reference does. Duplicate sections merge, the last duplicate
 * key wins, and in a config file `[profile default]` hides every `[default]` section.
 * `onGeneralLine` hears of each line that left the in-place fast path (for the tests that keep the
 * usual lines on it).
 */
export function parseSharedFile(text: string, kind: FileKind, filePath: string, onGeneralLine?: (lineNumber: number) => void): ParsedFile {
  return new SharedFileParser(text, kind, filePath, onGeneralLine).parse();
}

/** `text.indexOf(ch, from)`, or `text.length` when it is not there. */
function indexOrLength(text: string, ch: string, from: number): number {
  const at = text.indexOf(ch, from);
  return at === -1 ? text.length : at;
}

/**
 * Recently seen (lower-case) key names, by a hash of their length and first and last characters:
 * the same few keys recur in every section, and reusing the string that has already been used as a
 * property name spares a copy and its lookup in V8's string table on every store.
 */
const KEY_NAMES: (string | undefined)[] = new Array<string | undefined>(1024).fill(undefined);

/** `text.slice(start, end)`, or an equal string seen before. */
function internKey(text: string, start: number, end: number): string {
  const slot = ((end - start) * 31 + text.charCodeAt(start) * 7 + text.charCodeAt(end - 1)) & 1023;
  const known = KEY_NAMES[slot];
  if (known !== undefined && known.length === end - start && text.startsWith(known, start)) return known;
  const key = text.slice(start, end);
  KEY_NAMES[slot] = key;
  return key;
}

const INVALID_NAME = 'the name may only hold letters, digits and - / . % @ _ : +';

/**
 * The parse state. The text is scanned by index (no `split`, no per-line strings): on the usual
 * `key = value` line only the key and the value are sliced out, which keeps allocation (and so
 * garbage collection, a third of a cold resolve) low. Lines off that fast path are sliced and go
 * through the general, string-based rules.
 */
class SharedFileParser {
  private readonly text: string;
  private readonly kind: FileKind;
  private readonly filePath: string;
  private readonly onGeneralLine: ((lineNumber: number) => void) | undefined;
  private readonly out: Record<SectionKind, Record<string, Record<string, string>>> = {
    profile: emptyRecord(),
    'sso-session': emptyRecord(),
    services: emptyRecord(),
  };
  /**
   * Where the next `#` and `;` are at or after `scanFrom` (`length` when there is none): one
   * `indexOf` per comment character instead of a test per character of each value. 0: not looked
   * for yet (no value starts before index 2).
   */
  private nextHash = 0;
  private nextSemicolon = 0;
  private readonly warnings: string[] = [];
  private readonly ignoredProfiles: IgnoredProfileSection[] = [];
  // Config-file `[default]` sections, kept apart until we know whether `[profile default]` exists.
  private unprefixedDefault: Record<string, string> | undefined;
  private unprefixedDefaultLine = 0;
  private prefixedDefaultSeen = false;

  private lineNumber = 0;
  private inSection = false;
  /** Where keys go; undefined while inside an ignored section. */
  private target: Record<string, string> | undefined;
  /** The last property's (lower-cased) name, for continuation lines. */
  private property: string | undefined;
  private propertyKept = false;
  private inSubProperties = false;

  constructor(text: string, kind: FileKind, filePath: string, onGeneralLine: ((lineNumber: number) => void) | undefined) {
    this.text = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text; // Windows editors add a BOM
    this.kind = kind;
    this.filePath = filePath;
    this.onGeneralLine = onGeneralLine;
  }

  parse(): ParsedFile {
    const text = this.text;
    const length = text.length;
    // `<= length`: like `split('\n')`, a trailing newline is followed by one (empty) last line.
    for (let start = 0; start <= length; ) {
      const newline = indexOrLength(text, '\n', start);
      const end = newline > start && text.charCodeAt(newline - 1) === 0x0d ? newline - 1 : newline;
      this.lineNumber++;
      // An empty line is nothing. The fast paths take only lines that a newline follows: the
      // character at `end` (`\r` or `\n`) is then never a blank, a name character, `=` or `]`, so
      // their scans stop there with no bounds checks (and no out-of-bounds read, which V8 would
      // deoptimize on). The last line, if no newline ends it, takes the general path.
      if (start < end && !(newline < length && (text.charCodeAt(start) === 0x5b /* [ */ ? this.simpleHeader(start, end) : this.simpleProperty(start, end)))) {
        this.onGeneralLine?.(this.lineNumber);
        this.line(text.slice(start, end));
      }
      start = newline + 1;
    }
    const { out, warnings } = this;
    if (this.unprefixedDefault !== undefined) {
      if (this.prefixedDefaultSeen) {
        warnings.push(`${this.filePath}, line ${this.unprefixedDefaultLine}: [default] ignored because [profile default] takes priority`);
      } else {
        out.profile.default = this.unprefixedDefault;
      }
    }
    return { profiles: out.profile, ssoSessions: out['sso-session'], services: out.services, warnings, ignoredProfiles: this.ignoredProfiles };
  }

  /**
   * The fast path for the usual line, `name = value` with a valid name and no `#`/`;` anywhere,
   * scanned in place. Returns false, having changed nothing, for any other line.
   */
  private simpleProperty(start: number, end: number): boolean {
    const text = this.text;
    if (!this.inSection) return false;
    let i = start;
    let upperCase = false;
    for (let charClass; (charClass = nameClass(text.charCodeAt(i))) !== 0; i++) if (charClass === 2) upperCase = true;
    if (i === start) return false; // also rules out `[`, blanks (continuations) and comments
    const keyEnd = i;
    while (isBlankCode(text.charCodeAt(i))) i++;
    if (text.charCodeAt(i) !== 0x3d /* = */) return false;
    i++;
    while (isBlankCode(text.charCodeAt(i))) i++;
    const valueStart = i;
    // The name holds no `#`/`;` (not name characters), so only the value can; comment rules: general path.
    if (this.nextHash < valueStart) this.nextHash = indexOrLength(text, '#', valueStart);
    if (this.nextHash < end) return false;
    if (this.nextSemicolon < valueStart) this.nextSemicolon = indexOrLength(text, ';', valueStart);
    if (this.nextSemicolon < end) return false;
    // An empty value walks back past `valueStart` (to the `=`), and `slice` makes that ''.
    let valueEnd = end;
    while (isBlankCode(text.charCodeAt(valueEnd - 1))) valueEnd--;
    // Most keys are already lower-case; `toLowerCase` would allocate a copy of each.
    this.property = upperCase ? text.slice(start, keyEnd).toLowerCase() : internKey(text, start, keyEnd);
    const value = text.slice(valueStart, valueEnd);
    this.inSubProperties = value === '';
    this.propertyKept = this.target !== undefined;
    if (this.propertyKept) this.target![this.property] = value;
    return true;
  }

  /**
   * The fast path for the usual header, `[name]` (credentials) or `[profile name]`,
   * `[sso-session name]`, `[services name]` (config), with a valid name, blanks only around the
   * parts and nothing after `]`, scanned in place. Returns false, having changed nothing, for any
   * other header (`[default]` in a config file, comments, invalid names, errors).
   */
  private simpleHeader(start: number, end: number): boolean {
    const text = this.text;
    let i = start + 1;
    while (isBlankCode(text.charCodeAt(i))) i++;
    let sectionKind: SectionKind = 'profile';
    if (this.kind === 'config') {
      const prefix = SECTION_PREFIXES.find((p) => text.startsWith(p, i));
      if (prefix === undefined || !isBlankCode(text.charCodeAt(i + prefix.length))) return false;
      sectionKind = prefix;
      i += prefix.length;
      while (isBlankCode(text.charCodeAt(i))) i++;
    }
    const nameStart = i;
    while (nameClass(text.charCodeAt(i)) !== 0) i++;
    const nameEnd = i;
    if (nameEnd === nameStart) return false;
    while (isBlankCode(text.charCodeAt(i))) i++;
    if (text.charCodeAt(i) !== 0x5d /* ] */) return false;
    i++;
    while (isBlankCode(text.charCodeAt(i))) i++;
    if (i !== end) return false;
    const name = text.slice(nameStart, nameEnd);
    // In a credentials file this is moot: it has no unprefixed `[default]` to hide.
    if (sectionKind === 'profile' && name === 'default') this.prefixedDefaultSeen = true;
    this.inSection = true;
    this.property = undefined; // (so `inSubProperties` and `propertyKept` mean nothing until the next property)
    this.target = this.out[sectionKind][name] ??= emptySection();
    return true;
  }

  /** Every other line: comment, blank, section header, continuation or a property the fast path declined. */
  private line(line: string): void {
    const first = line.charCodeAt(0);
    if (first === 0x23 /* # */ || first === 0x3b /* ; */ || trimBlanks(line) === '') return;
    if (first === 0x5b /* [ */) this.sectionHeader(line);
    else if (isBlankCode(first)) this.continuation(line);
    else this.generalProperty(line);
  }

  private fail(problem: string): never {
    throw new ConfigParseError(this.filePath, this.lineNumber, problem);
  }

  private sectionHeader(line: string): void {
    const prepared = stripComment(line, false);
    if (!prepared.endsWith(']')) this.fail("Profile definition must end with ']'");
    this.inSection = true;
    this.property = undefined; // (so `inSubProperties` and `propertyKept` mean nothing until the next property)
    this.target = this.openSection(trimBlanks(prepared.slice(1, -1)));
  }

  /** The record a section header's keys go to (created on first sight), or undefined if it is ignored. */
  private openSection(header: string): Record<string, string> | undefined {
    let sectionKind: SectionKind = 'profile';
    let name: string | undefined;
    if (this.kind === 'credentials') {
      name = header;
    } else if ((name = stripPrefix(header, 'profile')) !== undefined) {
      if (name === 'default') this.prefixedDefaultSeen = true;
    } else if ((name = stripPrefix(header, 'sso-session')) !== undefined) {
      sectionKind = 'sso-session';
    } else if ((name = stripPrefix(header, 'services')) !== undefined) {
      sectionKind = 'services';
    } else if (header === 'default') {
      this.unprefixedDefaultLine ||= this.lineNumber;
      return (this.unprefixedDefault ??= emptySection());
    } else {
      // botocore does not take it as a profile either; recorded so `--profile <header>` can say why.
      return this.ignoreSection('config file profiles must be written `[profile <name>]`', [header], undefined);
    }
    if (!IDENTIFIER.test(name)) {
      if (sectionKind !== 'profile') return this.ignoreSection(INVALID_NAME);
      // The AWS CLI takes credentials-file headers as they are and splits config-file ones like a shell.
      const awsCliName = this.kind === 'credentials' ? name : awsCliConfigProfileName(header);
      return this.ignoreSection(INVALID_NAME, awsCliName === undefined || awsCliName === name ? [name] : [name, awsCliName], awsCliName);
    }
    return (this.out[sectionKind][name] ??= emptySection());
  }

  private ignoreSection(reason: string, profileNames?: string[], awsCliName?: string): undefined {
    this.warnings.push(`${this.filePath}, line ${this.lineNumber}: section ignored because ${reason}`);
    if (profileNames !== undefined) {
      this.ignoredProfiles.push({ names: profileNames, awsCliName, filePath: this.filePath, lineNumber: this.lineNumber, reason });
    }
    return undefined;
  }

  private continuation(line: string): void {
    if (!this.inSection) this.fail('Expected a profile definition before this continuation line');
    if (this.property === undefined) this.fail('Expected a property definition, found continuation');
    if (this.inSubProperties) {
      const sub = splitProperty(line);
      if (sub === 'no-equals') this.fail("Expected an '=' sign defining a sub-property");
      if (sub === 'no-name') this.fail('Sub-property did not have a name');
    }
    if (this.propertyKept) this.target![this.property] += `\n${line.trim()}`;
  }

  /** A property line with a comment, an unusual name or no `=`: the reference's full rules. */
  private generalProperty(line: string): void {
    if (!this.inSection) this.fail('Expected a profile definition before the first property');
    const prop = splitProperty(line);
    if (prop === 'no-equals') this.fail("Expected an '=' sign defining a property");
    if (prop === 'no-name') this.fail('Property did not have a name');
    const { key, value } = prop as { key: string; value: string };
    this.property = key.toLowerCase();
    this.inSubProperties = value === '';
    this.propertyKept = this.target !== undefined && IDENTIFIER.test(this.property);
    if (this.propertyKept) this.target![this.property] = value;
    else if (this.target !== undefined) this.warnings.push(`${this.filePath}, line ${this.lineNumber}: key ignored because its name is not valid`);
  }
}

/**
 * The profile name botocore reads from a config-file header (`configloader.build_profile_map`): the
 * header split like a shell line (`shlex.split`) must be `profile` and one name, so
 * `[profile "my profile"]` is `my profile`. Undefined when botocore skips the section too.
 */
export function awsCliConfigProfileName(header: string): string | undefined {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (let i = 0; i < header.length; i++) {
    const ch = header[i]!;
    if (quote !== undefined) {
      if (ch === quote) quote = undefined;
      else if (ch === '\\' && quote === '"' && (header[i + 1] === '"' || header[i + 1] === '\\')) word += header[++i]!;
      else word += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      word ??= '';
    } else if (ch === ' ' || ch === '\t' || ch === '\r') {
      // shlex's whitespace (less `\n`, which no line holds); any other character (no-break space, \v...) is part of a word.
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (ch === '\\') {
      if (i + 1 === header.length) return undefined; // shlex: "No escaped character"
      word = (word ?? '') + header[++i]!;
    } else {
      word = (word ?? '') + ch;
    }
  }
  if (quote !== undefined) return undefined; // shlex: "No closing quotation"
  if (word !== undefined) words.push(word);
  return words.length === 2 && words[0] === 'profile' ? words[1] : undefined;
}

/** Profiles of both files, credentials-file keys overriding config-file keys of the same profile. */
export function mergeProfiles(config: Sections, credentials: Sections): Sections {
  const merged = emptyRecord<Section>();
  for (const name in config) merged[name] = config[name]!;
  for (const name in credentials) {
    const fromConfig = merged[name];
    // A profile in one file only is shared, not copied (parsed results are read-only by contract).
    merged[name] = fromConfig === undefined ? credentials[name]! : Object.assign(emptySection(), fromConfig, credentials[name]);
  }
  return merged;
}

/**
 * Reads a sub-property block (`s3 =\n  max_concurrent_requests = 10`, stored as
 * `"\nmax_concurrent_requests = 10"`) into lower-cased keys. The parser has already rejected
 * lines without `=` or without a name; lines that still do not fit are skipped.
 */
export function parseSubProperties(value: string): Record<string, string> {
  const out = emptyRecord<string>();
  for (const line of value.split('\n')) {
    const prop = splitProperty(line);
    if (typeof prop === 'string') continue;
    out[prop.key.toLowerCase()] = prop.value;
  }
  return out;
}
