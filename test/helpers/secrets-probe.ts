import { format, inspect } from 'node:util';

/**
 * Canary secrets and a probe that records every printable form of what credchain hands back
 * (results, errors with stacks and causes, providers, logger lines, CLI output), then reports any
 * canary found in it. Every canary carries the marker `canary`, so a leak is found even when only
 * part of a secret is printed; secrets we do not choose (those the local STS issues) are searched
 * for in full and by their first and last 16 characters.
 */

export const MARKER = /canary/i;

let serial = 0;
/** A distinctive secret: `SECRETKEY-canary-3-x7…`; the kind names what it stands for. */
export function canary(kind: 'SECRETKEY' | 'SESSIONTOKEN' | 'WEBIDTOKEN' | 'SAMLASSERTION' | 'CONTAINERAUTH'): string {
  serial += 1;
  return `${kind}-canary-${serial}-${Math.random().toString(36).slice(2, 10)}`;
}

/** An access key id (not a secret: it is printed masked, and may be printed whole in places). */
export function accessKeyId(prefix: 'AKIA' | 'ASIA', n: number): string {
  return `${prefix}SECRETSTEST${String(n).padStart(5, '0')}`;
}

/** An unsigned JWT whose signature part is a canary (the local STS checks the claims, not the signature). */
export function canaryJwt(claims: Record<string, unknown> = { sub: 'subject-1', aud: 'sts.amazonaws.com', iss: 'https://oidc.example.com' }): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'RS256', typ: 'JWT' })}.${part(claims)}.${canary('WEBIDTOKEN')}`;
}

/**
 * A base64 SAML response ending in a canary: the XML is padded to a multiple of 3 bytes so its
 * base64 has no `=`, and the canary (letters and digits) decodes to trailing bytes the local STS ignores.
 */
export function canarySamlAssertion(nameId = 'alice', notOnOrAfter?: Date): string {
  let xml =
    `<samlp:Response><saml:Assertion><saml:Issuer>https://idp.example.com</saml:Issuer><saml:Subject><saml:NameID>${nameId}</saml:NameID></saml:Subject>` +
    `<saml:AuthnStatement${notOnOrAfter ? ` SessionNotOnOrAfter="${notOnOrAfter.toISOString()}"` : ''}/></saml:Assertion></samlp:Response>`;
  while (xml.length % 3 !== 0) xml += ' ';
  // The trailer is 24 base64 letters/digits: it decodes to a few junk bytes after the XML.
  return `${Buffer.from(xml).toString('base64')}SAMLASSERTIONcanary${String(++serial).padStart(4, '0')}x`;
}

export interface Leak {
  readonly label: string;
  readonly found: string;
  readonly excerpt: string;
}

/** Every printing path of a value: inspect (plain and showHidden, depth Infinity), JSON, String, template. */
function printings(value: unknown): string[] {
  const out: string[] = [];
  const attempt = (fn: () => unknown) => {
    try {
      const v = fn();
      if (v !== undefined) out.push(String(v));
    } catch (error) {
      out.push(`<threw ${error instanceof Error ? error.message : 'non-error'}>`);
    }
  };
  attempt(() => inspect(value, { depth: Infinity }));
  attempt(() => inspect(value, { depth: Infinity, showHidden: true, getters: true }));
  attempt(() => JSON.stringify(value));
  attempt(() => String(value));
  attempt(() => `${value as string}`);
  attempt(() => format('%s %o %O %j', value, value, value, value));
  return out;
}

export class SecretProbe {
  private readonly records: Array<{ label: string; text: string }> = [];
  /** How many values, errors and log lines were recorded (a probe that saw nothing proves nothing). */
  counts = { values: 0, errors: 0, logLines: 0, outputs: 0 };

  /** A console-compatible logger recording every method's output, formatted and inspected. */
  readonly logger = {
    debug: (...args: unknown[]) => this.logLine('debug', args),
    info: (...args: unknown[]) => this.logLine('info', args),
    warn: (...args: unknown[]) => this.logLine('warn', args),
    error: (...args: unknown[]) => this.logLine('error', args),
  };

  private logLine(level: string, args: unknown[]): void {
    this.counts.logLines += 1;
    this.records.push({ label: `logger.${level}`, text: format(...args) });
    args.forEach((a, i) => this.see(`logger.${level} arg ${i}`, a, false));
  }

  /** Records every printing of `value`; errors also by message, stack and each `cause` (and `errors`). */
  see(label: string, value: unknown, count = true): void {
    if (count) this.counts.values += 1;
    for (const text of printings(value)) this.records.push({ label, text });
    const seen = new Set<unknown>();
    let current: unknown = value;
    let depth = 0;
    while (current instanceof Error && !seen.has(current) && depth < 20) {
      seen.add(current);
      if (count && depth === 0) this.counts.errors += 1;
      const where = depth === 0 ? label : `${label} cause#${depth}`;
      if (process.env.SECRETS_DUMP && depth === 0) console.log(`${where}: ${current.message}`);
      this.records.push({ label: `${where} message`, text: current.message });
      this.records.push({ label: `${where} stack`, text: current.stack ?? '' });
      for (const text of printings(current)) this.records.push({ label: where, text });
      for (const [key, v] of Object.entries(current)) this.records.push({ label: `${where}.${key}`, text: printings(v).join('\n') });
      if (current instanceof AggregateError) current.errors.forEach((e, i) => this.see(`${where} errors[${i}]`, e, false));
      current = current.cause;
      depth += 1;
      if (!(current instanceof Error) && current !== undefined) this.see(`${where} cause (non-error)`, current, false);
    }
  }

  /** Raw text a process printed (CLI stdout/stderr). */
  text(label: string, text: string): void {
    this.counts.outputs += 1;
    if (process.env.SECRETS_DUMP) console.log(`${label}:\n${text}`);
    this.records.push({ label, text });
  }

  /** Runs `work`, recording its result or its error; returns which it was. */
  async settle<T>(label: string, work: () => Promise<T> | T): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
    try {
      const value = await work();
      this.see(`${label} result`, value);
      return { ok: true, value };
    } catch (error) {
      this.see(`${label} error`, error);
      return { ok: false, error };
    }
  }

  /** The error `work` fails with (recorded); throws when it resolves. */
  async failure(label: string, work: () => Promise<unknown> | unknown): Promise<Error> {
    const r = await this.settle(label, work);
    if (r.ok) throw new Error(`${label}: expected a failure, got a result`);
    if (!(r.error instanceof Error)) throw new Error(`${label}: expected an Error, got ${typeof r.error}`);
    return r.error;
  }

  /** The value `work` resolves to (recorded); rethrows its error. */
  async result<T>(label: string, work: () => Promise<T> | T): Promise<T> {
    const r = await this.settle(label, work);
    if (!r.ok) throw r.error;
    return r.value;
  }

  /** Canaries (marker or any given secret, whole or its first/last 16 characters) found in what was recorded. */
  leaks(secrets: Iterable<string> = []): Leak[] {
    const needles = new Set<string>();
    for (const s of secrets) {
      if (s.length < 8) continue;
      needles.add(s);
      if (s.length >= 24) {
        needles.add(s.slice(0, 16));
        needles.add(s.slice(-16));
      }
    }
    const found: Leak[] = [];
    for (const { label, text } of this.records) {
      const marker = MARKER.exec(text);
      const hits = marker ? [marker[0]] : [];
      for (const n of needles) if (text.includes(n)) hits.push(n);
      for (const hit of hits) {
        const at = text.toLowerCase().indexOf(hit.toLowerCase());
        found.push({ label, found: hit, excerpt: text.slice(Math.max(0, at - 80), at + 80) });
      }
    }
    return found;
  }
}
