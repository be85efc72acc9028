import { readSync } from 'node:fs';
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

/** Longest MFA line read from fd 0; a code is 6 digits, this only bounds a runaway input. */
const MAX_CODE_LINE_BYTES = 1024;

/**
 * Reads one line from a file descriptor a byte at a time, blocking. It takes nothing past the
 * newline and never opens a stream on stdin: `exec`'s child gets the rest of stdin, and a terminal
 * left open does not keep the process alive. (A paused `process.stdin` keeps reading ahead into its
 * buffer, so a readline on it can do neither.) Blocking is fine here: the CLI waits for the code.
 */
function readLineSync(fd: number): string | undefined {
  const byte = Buffer.alloc(1);
  const bytes: number[] = [];
  const sleep = new Int32Array(new SharedArrayBuffer(4));
  let sawNewline = false;
  while (bytes.length < MAX_CODE_LINE_BYTES) {
    let count: number;
    try {
      count = readSync(fd, byte, 0, 1, null);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        Atomics.wait(sleep, 0, 0, 20); // a non-blocking fd with nothing yet
        continue;
      }
      if (code === 'EOF') break; // Windows
      throw error;
    }
    if (count === 0) break;
    if (byte[0] === 0x0a) {
      sawNewline = true;
      break;
    }
    bytes.push(byte[0]!);
  }
  return bytes.length === 0 && !sawNewline ? undefined : Buffer.from(bytes).toString('utf8');
}

/** One line from a stream (tests, embedders); lines that came in the same chunk wait in `pending`. */
function readLineFromStream(stdin: Readable, pending: string[]): Promise<string | undefined> {
  const queued = pending.shift();
  if (queued !== undefined) return Promise.resolve(queued);
  return new Promise((resolve) => {
    if (stdin.readableEnded || stdin.destroyed) return resolve(undefined);
    const rl = createInterface({ input: stdin, terminal: false });
    let answered = false;
    // readline emits every line of a chunk, even after close().
    rl.on('line', (line) => {
      if (answered) return void pending.push(line);
      answered = true;
      rl.close();
      resolve(line);
    });
    rl.once('close', () => {
      stdin.pause();
      if (!answered) resolve(undefined);
    });
  });
}

/**
 * The MFA callback of the CLI: asks on stderr and reads one line, from `stdin` when one is given,
 * else from file descriptor 0 (the terminal, or whatever is piped in) without opening a stream on it.
 * Each prompt (each renewal) reads the next line. The status line, if any, is held back meanwhile.
 */
export function terminalTokenCode(stdin: Readable | undefined, stderr: Writable, status?: StatusLine): (mfaSerial: string) => Promise<string> {
  const pending: string[] = [];
  const ask = async (mfaSerial: string) => {
    stderr.write(`Enter MFA code for ${mfaSerial}: `);
    const line = stdin === undefined ? readLineSync(0) : await readLineFromStream(stdin, pending);
    if (line === undefined) throw new Error(`no MFA code was entered for ${mfaSerial}`);
    return line.trim();
  };
  return (mfaSerial) => (status ? status.suspend(() => ask(mfaSerial)) : ask(mfaSerial));
}
