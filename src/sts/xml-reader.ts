/**
 * A small, strict XML reader for the few fixed shapes STS answers with (`<{Action}Response>` and
 * `<ErrorResponse>`): elements become objects, text-only elements strings, repeated names arrays,
 * namespace prefixes and attributes are dropped. The same tree shape fast-xml-parser gave with
 * `{ ignoreAttributes, parseTagValue: false, removeNSPrefix, processEntities }` (a property test
 * cross-checks the two), without its builder, validator and options.
 *
 * Strict where it matters for credentials: the document must be well-formed and complete (one root
 * element, every tag closed and matched), so a truncated answer is an error rather than a partial
 * tree. Entities: the five predefined ones and numeric references; a DOCTYPE (and so any entity it
 * would declare) is refused. CDATA sections are read as text. Errors never quote the body.
 */

export type XmlValue = XmlNode | string | XmlValue[];
export type XmlNode = { [name: string]: XmlValue | undefined };

export class XmlReadError extends Error {}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
// Code points refused in a document: NUL, lone surrogates, U+FFFE/F. Other C0 controls, which XML 1.0
// also forbids, are read (as fast-xml-parser did) so a hostile server's ESC sequences reach the places
// that neutralise text for a terminal (errors.ts terminalSafe) instead of failing the whole response.
const FORBIDDEN = /[\u0000\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// XML names, ASCII part exact, anything past U+00B7 accepted (STS's names are ASCII).
const NAME = /^[A-Za-z_:\u00C0-\uFFFF][\w.:\u00B7-\uFFFF-]*$/;
const WS = /^[ \t\r\n]*$/;

function fail(what: string): never {
  throw new XmlReadError(what);
}

/** Replaces `&…;` references; an unknown entity, a bare `&` or a reference to a forbidden code point is an error. */
function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&([^;&]*);?/g, (match, ref: string) => {
    if (!match.endsWith(';')) fail('a bare & in text');
    if (ref.startsWith('#')) {
      const code = /^#x[0-9A-Fa-f]{1,6}$/.test(ref) ? parseInt(ref.slice(2), 16) : /^#[0-9]{1,7}$/.test(ref) ? parseInt(ref.slice(1), 10) : NaN;
      const ok = (code >= 0x1 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
      if (!ok) fail('a character reference to a character XML does not allow');
      return String.fromCodePoint(code);
    }
    const value = ENTITIES[ref];
    if (value === undefined) fail('an entity reference other than &amp; &lt; &gt; &quot; &apos;');
    return value;
  });
}

interface Open {
  rawName: string;
  name: string;
  node: XmlNode;
  /** Text read so far, entities already decoded. */
  text: string;
  hasChildren: boolean;
}

function add(node: XmlNode, name: string, value: XmlValue): void {
  const prior = node[name];
  if (prior === undefined) node[name] = value;
  else if (Array.isArray(prior)) prior.push(value);
  else node[name] = [prior, value];
}

/** Skips `<!-- … -->` or `<? … ?>` at `i`; returns the index after it. */
function skipMarkup(xml: string, i: number, open: string, close: string, what: string): number {
  const end = xml.indexOf(close, i + open.length);
  if (end === -1) fail(`an unclosed ${what}`);
  return end + close.length;
}

/** Reads a start tag's attributes (discarded) from `i` to its `>`; returns [index after `>`, self-closing]. */
function readAttributes(xml: string, i: number): [number, boolean] {
  for (;;) {
    while (i < xml.length && ' \t\r\n'.includes(xml[i]!)) i++;
    const c = xml[i];
    if (c === undefined) fail('an unclosed start tag');
    if (c === '>') return [i + 1, false];
    if (c === '/') {
      if (xml[i + 1] !== '>') fail('a malformed start tag');
      return [i + 2, true];
    }
    const eq = xml.indexOf('=', i);
    if (eq === -1) fail('a malformed attribute');
    if (!NAME.test(xml.slice(i, eq).trimEnd())) fail('a malformed attribute name');
    let q = eq + 1;
    while (q < xml.length && ' \t\r\n'.includes(xml[q]!)) q++;
    const quote = xml[q];
    if (quote !== '"' && quote !== "'") fail('an unquoted attribute value');
    const end = xml.indexOf(quote, q + 1);
    if (end === -1) fail('an unclosed attribute value');
    if (xml.slice(q + 1, end).includes('<')) fail('a less-than sign in an attribute value');
    i = end + 1;
    if (i < xml.length && !' \t\r\n/>'.includes(xml[i]!)) fail('attributes not separated by whitespace');
  }
}

const localName = (raw: string) => raw.slice(raw.lastIndexOf(':') + 1);

/** Parses `xml` into `{ rootName: value }`. Throws `XmlReadError` unless it is one complete, well-formed document. */
export function readXml(xml: string): XmlNode {
  if (FORBIDDEN.test(xml)) fail('a character XML does not allow');
  let i = xml.charCodeAt(0) === 0xfeff ? 1 : 0;
  const doc: XmlNode = {};
  const stack: Open[] = [];
  let rootSeen = false;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const text = xml.slice(i, lt === -1 ? xml.length : lt);
    const top = stack[stack.length - 1];
    if (top) top.text += decodeEntities(text);
    else if (!WS.test(text)) fail(rootSeen ? 'text after the root element' : 'text before the root element');
    if (lt === -1) break;
    i = lt;
    if (xml.startsWith('<!--', i)) {
      i = skipMarkup(xml, i, '<!--', '-->', 'comment');
    } else if (xml.startsWith('<?', i)) {
      i = skipMarkup(xml, i, '<?', '?>', 'processing instruction');
    } else if (xml.startsWith('<![CDATA[', i)) {
      if (!top) fail('a CDATA section outside the root element');
      const end = xml.indexOf(']]>', i + 9);
      if (end === -1) fail('an unclosed CDATA section');
      top.text += xml.slice(i + 9, end); // verbatim: no entities in CDATA
      i = end + 3;
    } else if (xml.startsWith('<!', i)) {
      fail('a DOCTYPE or other declaration (not accepted)');
    } else if (xml[i + 1] === '/') {
      const gt = xml.indexOf('>', i + 2);
      if (gt === -1) fail('an unclosed end tag');
      const rawName = xml.slice(i + 2, gt).trimEnd();
      const open = stack.pop();
      if (!open) fail('an end tag without a start tag');
      if (open.rawName !== rawName) fail('an end tag that does not match its start tag');
      close(open, stack[stack.length - 1]?.node ?? doc);
      i = gt + 1;
    } else {
      let j = i + 1;
      while (j < xml.length && !' \t\r\n/>'.includes(xml[j]!)) j++;
      const rawName = xml.slice(i + 1, j);
      if (!NAME.test(rawName)) fail('a malformed element name');
      if (!top && rootSeen) fail('a second root element');
      const [next, selfClosing] = readAttributes(xml, j);
      if (top) top.hasChildren = true;
      rootSeen = true;
      const open: Open = { rawName, name: localName(rawName), node: {}, text: '', hasChildren: false };
      if (selfClosing) close(open, top?.node ?? doc);
      else stack.push(open);
      i = next;
    }
  }
  if (stack.length > 0) fail('the document ends before its root element is closed (truncated?)');
  if (!rootSeen) fail('no root element');
  return doc;
}

function close(open: Open, parent: XmlNode): void {
  // Text beside child elements (mixed content: none in STS's shapes) is dropped, like whitespace.
  const value: XmlValue = open.hasChildren ? open.node : open.text.trim();
  add(parent, open.name, value);
}
