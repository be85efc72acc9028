import { ConfigParseError } from './errors.js';

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

export interface ParsedFile {
  /** Profiles by name (`[profile x]`/`[default]` in config, `[x]` in credentials). */
  readonly profiles: Sections;
  /** `[sso-session x]` sections (config file only). */
  readonly ssoSessions: Sections;
  /** `[services x]` sections (config file only); values are raw sub-property blocks. */
  readonly services: Sections;
  /** Sections and keys that were ignored, with the reason; no values. */
  readonly warnings: readonly string[];
}

const IDENTIFIER = /^[A-Za-z0-9_\-/.%@:+]+$/;

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

/**
 * Trims and drops a trailing comment. Section lines end at the first `#`/`;`; property lines
 * only at one that follows whitespace (`value; x` keeps the `; x`).
 */
function stripComment(line: string, commentNeedsWhitespace: boolean): string {
  const trimmed = trimBlanks(line);
  let prevWhitespace = false;
  for (let i = 0; i < trimmed.length; i++) {
    const ch = trimmed[i]!;
    if ((ch === '#' || ch === ';') && (prevWhitespace || !commentNeedsWhitespace)) {
      return trimBlanks(trimmed.slice(0, i));
    }
    prevWhitespace = /\s/.test(ch);
  }
  return trimmed;
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

interface RawSection {
  /** Text between the brackets, not yet trimmed or classified. */
  header: string;
  line: number;
  props: Map<string, string>;
}

/** Step 1: the literal parse; every syntax error is thrown here with its line number. */
function parseRaw(text: string, filePath: string): RawSection[] {
  const sections: RawSection[] = [];
  let current: RawSection | undefined;
  let property: string | undefined;
  let inSubProperties = false;
  const fail = (line: number, problem: string): never => {
    throw new ConfigParseError(filePath, line, problem);
  };

  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNumber = i + 1;
    let line = lines[i]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (trimBlanks(line) === '' || line.startsWith('#') || line.startsWith(';')) continue;

    if (line.startsWith('[')) {
      const prepared = stripComment(line, false);
      if (!prepared.endsWith(']')) fail(lineNumber, "Profile definition must end with ']'");
      current = { header: prepared.slice(1, -1), line: lineNumber, props: new Map() };
      sections.push(current);
      property = undefined;
      inSubProperties = false;
    } else if (isBlank(line[0])) {
      if (!current) fail(lineNumber, 'Expected a profile definition before this continuation line');
      if (property === undefined) fail(lineNumber, 'Expected a property definition, found continuation');
      if (inSubProperties) {
        const sub = splitProperty(line);
        if (sub === 'no-equals') fail(lineNumber, "Expected an '=' sign defining a sub-property");
        if (sub === 'no-name') fail(lineNumber, 'Sub-property did not have a name');
      }
      current!.props.set(property!, `${current!.props.get(property!) ?? ''}\n${line.trim()}`);
    } else {
      if (!current) fail(lineNumber, 'Expected a profile definition before the first property');
      const prop = splitProperty(line);
      if (prop === 'no-equals') fail(lineNumber, "Expected an '=' sign defining a property");
      if (prop === 'no-name') fail(lineNumber, 'Property did not have a name');
      const { key, value } = prop as { key: string; value: string };
      property = key.toLowerCase();
      inSubProperties = value === '';
      current!.props.set(property, value);
    }
  }
  return sections;
}

type SectionKind = 'profile' | 'sso-session' | 'services';

interface SectionName {
  kind: SectionKind;
  name: string;
  hasProfilePrefix: boolean;
}

/** `<prefix><whitespace><name>`; `profilefoo` has no prefix. */
function stripPrefix(header: string, prefix: string): string | undefined {
  if (!header.startsWith(prefix) || !isBlank(header[prefix.length])) return undefined;
  return header.slice(prefix.length).trim();
}

/** Step 2a: what a section header means in this kind of file, or why it is ignored. */
function classify(header: string, kind: FileKind): SectionName | string {
  const trimmed = trimBlanks(header);
  let result: SectionName;
  if (kind === 'credentials') {
    result = { kind: 'profile', name: trimmed, hasProfilePrefix: false };
  } else {
    const profile = stripPrefix(trimmed, 'profile');
    const ssoSession = stripPrefix(trimmed, 'sso-session');
    const services = stripPrefix(trimmed, 'services');
    if (profile !== undefined) result = { kind: 'profile', name: profile, hasProfilePrefix: true };
    else if (ssoSession !== undefined) result = { kind: 'sso-session', name: ssoSession, hasProfilePrefix: false };
    else if (services !== undefined) result = { kind: 'services', name: services, hasProfilePrefix: false };
    else if (trimmed === 'default') result = { kind: 'profile', name: 'default', hasProfilePrefix: false };
    else return 'config file profiles must be written `[profile <name>]`';
  }
  if (!IDENTIFIER.test(result.name)) {
    return 'the name may only hold letters, digits and - / . % @ _ : +';
  }
  return result;
}

function emptyRecord<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

function deepFreeze(sections: Record<string, Record<string, string>>): Sections {
  for (const section of Object.values(sections)) Object.freeze(section);
  return Object.freeze(sections);
}

/**
 * Parses one shared config or credentials file. Throws `ConfigParseError` (file and line, never
 * the line's text) for lines the reference rejects; ignores invalid section and key names with
 * a warning, as the reference does. Duplicate sections merge, the last duplicate key wins, and
 * in a config file `[profile default]` hides every `[default]` section.
 */
export function parseSharedFile(text: string, kind: FileKind, filePath: string): ParsedFile {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text; // Windows editors add a BOM
  const raw = parseRaw(body, filePath);
  const warnings: string[] = [];
  const named: Array<{ section: RawSection; name: SectionName }> = [];
  for (const section of raw) {
    const name = classify(section.header, kind);
    if (typeof name === 'string') warnings.push(`${filePath}, line ${section.line}: section ignored because ${name}`);
    else named.push({ section, name });
  }
  const prefixedDefault =
    kind === 'config' && named.some(({ name }) => name.kind === 'profile' && name.name === 'default' && name.hasProfilePrefix);

  const out: Record<SectionKind, Record<string, Record<string, string>>> = {
    profile: emptyRecord(),
    'sso-session': emptyRecord(),
    services: emptyRecord(),
  };
  for (const { section, name } of named) {
    if (prefixedDefault && name.kind === 'profile' && name.name === 'default' && !name.hasProfilePrefix) {
      warnings.push(`${filePath}, line ${section.line}: [default] ignored because [profile default] takes priority`);
      continue;
    }
    const target = (out[name.kind][name.name] ??= emptyRecord());
    for (const [key, value] of section.props) {
      if (IDENTIFIER.test(key)) target[key] = value;
      else warnings.push(`${filePath}, section starting line ${section.line}: a key was ignored because its name is not valid`);
    }
  }
  return Object.freeze({
    profiles: deepFreeze(out.profile),
    ssoSessions: deepFreeze(out['sso-session']),
    services: deepFreeze(out.services),
    warnings: Object.freeze(warnings),
  });
}

/** Profiles of both files, credentials-file keys overriding config-file keys of the same profile. */
export function mergeProfiles(config: Sections, credentials: Sections): Sections {
  const merged = emptyRecord<Record<string, string>>();
  for (const source of [config, credentials]) {
    for (const [name, section] of Object.entries(source)) {
      merged[name] = Object.assign(merged[name] ?? emptyRecord<string>(), section);
    }
  }
  return deepFreeze(merged);
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
