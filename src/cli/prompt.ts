import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';

/**
 * The one status line of a CLI run (`credchain: resolving credentials…`): shown on stderr while work
 * takes longer than `delayMs`, cleared after, and only on a terminal: piped stderr (scripts,
 * credential_process) gets nothing. A prompt suspends it, so the status never lands on the prompt's
 * line while the user types; it comes back (after the delay) if the work goes on.
 */
export class StatusLine {
  private active = 0;
  private label = '';
  private shown = false;
  private suspended = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly stderr: Writable & { isTTY?: boolean },
    private readonly delayMs = 300,
  ) {}

  /** Shows `label` while `work` runs longer than the delay. */
  async during<T>(label: string, work: Promise<T>): Promise<T> {
    if (!this.stderr.isTTY) return work;
    this.active += 1;
    this.label = label;
    this.arm();
    try {
      return await work;
    } finally {
      this.active -= 1;
      if (this.active === 0) this.hide();
    }
  }

  /** Runs `fn` (a prompt) with the status line cleared and held back. */
  async suspend<T>(fn: () => Promise<T>): Promise<T> {
    this.suspended += 1;
    this.hide();
    try {
      return await fn();
    } finally {
      this.suspended -= 1;
      this.arm();
    }
  }

  private arm(): void {
    if (this.timer !== undefined || this.shown || this.active === 0 || this.suspended > 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.active === 0 || this.suspended > 0) return;
      this.shown = true;
      this.stderr.write(`credchain: ${this.label}…`);
    }, this.delayMs);
    this.timer.unref();
  }

  private hide(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.shown) this.stderr.write('\r\x1b[K');
    this.shown = false;
  }
}

/**
 * The MFA callback of the CLI: asks on stderr and reads one line from stdin (the terminal, or
 * whatever the caller pipes in). Lines are read from one shared reader, so a second prompt (the next
 * renewal) reads the next line. The status line, if any, is held back while the prompt waits.
 */
export function terminalTokenCode(stdin: Readable, stderr: Writable, status?: StatusLine): (mfaSerial: string) => Promise<string> {
  let lines: AsyncIterator<string> | undefined;
  const ask = async (mfaSerial: string) => {
    stderr.write(`Enter MFA code for ${mfaSerial}: `);
    lines ??= createInterface({ input: stdin, terminal: false })[Symbol.asyncIterator]();
    const next = await lines.next();
    if (next.done) throw new Error(`no MFA code was entered for ${mfaSerial}`);
    return next.value.trim();
  };
  return (mfaSerial) => (status ? status.suspend(() => ask(mfaSerial)) : ask(mfaSerial));
}

/** Shows `credchain: <label>…` on a terminal stderr while `work` takes longer than `delayMs`. */
export function withStatusLine<T>(stderr: Writable & { isTTY?: boolean }, label: string, work: Promise<T>, delayMs = 300): Promise<T> {
  return new StatusLine(stderr, delayMs).during(label, work);
}
