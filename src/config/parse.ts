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
}

const IDENTIFIER = /^[A-Za-z0-9_\-/.%@:+]+$/;
/** `name = value` with a valid name and no `#`/`;` in the line; the value without surrounding blanks. */
const SIMPLE_PROPERTY = /^([A-Za-z0-9_\-/.%@:+]+)[ \t]*=[ \t]*([^ \t#;](?:[^#;]*[^ \t#;])?)?[ \t]*$/;

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
  if (!trimmed.includes('#') && !trimmed.includes(';')) return trimmed;
  let prevWhitespace = false;
  for (let i = 0; i < trimmed.length; i++) {
    const code = trimmed.charCodeAt(i);
    if ((code === 0x23 || code === 0x3b) && (prevWhitespace || !commentNeedsWhitespace)) {
      return trimBlanks(trimmed.slice(0, i));
    }
    prevWhitespace = code === 0x20 || code === 0x09 || (code > 0x7f ? /\s/.test(trimmed[i]!) : code >= 0x0a && code <= 0x0d);
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

/** What a section header means in this kind of file, or why it is ignored. */
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

const INSPECT = Symbol.for('nodejs.util.inspect.custom');
/** Keys whose values are secrets: masked whenever a section is printed. */
const SECRET_KEYS = new Set(['aws_secret_access_key', 'aws_session_token']);

type InspectFn = (value: unknown, options: object) => string;

/** A plain-object copy for printing, with secret values masked. Built only when something prints. */
function printable(record: Record<string, unknown>, mask: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in record) out[key] = mask && SECRET_KEYS.has(key) ? '****' : record[key];
  return out;
}

function inspectAs(mask: boolean) {
  return function (this: Record<string, unknown>, depth: number, options: { depth?: number | null }, inspect: InspectFn): string | object {
    if (depth < 0) return mask ? '[Section]' : '[Object]';
    return inspect(printable(this, mask), { ...options, depth: options.depth == null ? options.depth : options.depth - 1 });
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
 */
export function parseSharedFile(text: string, kind: FileKind, filePath: string): ParsedFile {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text; // Windows editors add a BOM
  const out: Record<SectionKind, Record<string, Record<string, string>>> = {
    profile: emptyRecord(),
    'sso-session': emptyRecord(),
    services: emptyRecord(),
  };
  const warnings: string[] = [];
  const fail = (line: number, problem: string): never => {
    throw new ConfigParseError(filePath, line, problem);
  };
  // Config-file `[default]` sections, kept apart until we know whether `[profile default]` exists.
  let unprefixedDefault: Record<string, string> | undefined;
  let unprefixedDefaultLine = 0;
  let prefixedDefaultSeen = false;

  let inSection = false;
  let target: Record<string, string> | undefined; // undefined while inside an ignored section
  let property: string | undefined;
  let propertyKept = false;
  let inSubProperties = false;

  const lines = body.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNumber = i + 1;
    let line = lines[i]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    const first = line.charCodeAt(0);
    // Fast path for the usual `key = value` line (valid key, no `#`/`;` anywhere): one native regex
    // match instead of the general path's character loops, which matters on a cold (unoptimized) start.
    if (inSection && first !== 0x5b /* [ */ && first !== 0x20 && first !== 0x09) {
      const simple = SIMPLE_PROPERTY.exec(line);
      if (simple !== null) {
        property = simple[1]!.toLowerCase();
        const value = simple[2] ?? '';
        inSubProperties = value === '';
        propertyKept = target !== undefined;
        if (propertyKept) target![property] = value;
        continue;
      }
    }
    if (first === 0x23 /* # */ || first === 0x3b /* ; */ || trimBlanks(line) === '') continue;

    if (first === 0x5b) {
      const prepared = stripComment(line, false);
      if (!prepared.endsWith(']')) fail(lineNumber, "Profile definition must end with ']'");
      inSection = true;
      property = undefined;
      inSubProperties = false;
      const name = classify(prepared.slice(1, -1), kind);
      if (typeof name === 'string') {
        warnings.push(`${filePath}, line ${lineNumber}: section ignored because ${name}`);
        target = undefined;
      } else if (kind === 'config' && name.kind === 'profile' && name.name === 'default' && !name.hasProfilePrefix) {
        target = unprefixedDefault ??= emptySection();
        unprefixedDefaultLine ||= lineNumber;
      } else {
        if (name.kind === 'profile' && name.name === 'default') prefixedDefaultSeen = true;
        target = out[name.kind][name.name] ??= emptySection();
      }
    } else if (first === 0x20 || first === 0x09) {
      if (!inSection) fail(lineNumber, 'Expected a profile definition before this continuation line');
      if (property === undefined) fail(lineNumber, 'Expected a property definition, found continuation');
      if (inSubProperties) {
        const sub = splitProperty(line);
        if (sub === 'no-equals') fail(lineNumber, "Expected an '=' sign defining a sub-property");
        if (sub === 'no-name') fail(lineNumber, 'Sub-property did not have a name');
      }
      if (propertyKept) target![property!] += `\n${line.trim()}`;
    } else {
      if (!inSection) fail(lineNumber, 'Expected a profile definition before the first property');
      const prop = splitProperty(line);
      if (prop === 'no-equals') fail(lineNumber, "Expected an '=' sign defining a property");
      if (prop === 'no-name') fail(lineNumber, 'Property did not have a name');
      const { key, value } = prop as { key: string; value: string };
      property = key.toLowerCase();
      inSubProperties = value === '';
      propertyKept = target !== undefined && IDENTIFIER.test(property);
      if (propertyKept) target![property] = value;
      else if (target !== undefined) warnings.push(`${filePath}, line ${lineNumber}: key ignored because its name is not valid`);
    }
  }
  if (unprefixedDefault !== undefined) {
    if (prefixedDefaultSeen) {
      warnings.push(`${filePath}, line ${unprefixedDefaultLine}: [default] ignored because [profile default] takes priority`);
    } else {
      out.profile.default = unprefixedDefault;
    }
  }
  return { profiles: out.profile, ssoSessions: out['sso-session'], services: out.services, warnings };
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
