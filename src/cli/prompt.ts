import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';

/**
 * The MFA callback of the CLI: asks on stderr and reads one line from stdin (the terminal, or
 * whatever the caller pipes in). Lines are read from one shared reader, so a second prompt (the next
 * renewal) reads the next line.
 */
export function terminalTokenCode(stdin: Readable, stderr: Writable): (mfaSerial: string) => Promise<string> {
  let lines: AsyncIterator<string> | undefined;
  return async (mfaSerial) => {
    stderr.write(`Enter MFA code for ${mfaSerial}: `);
    lines ??= createInterface({ input: stdin, terminal: false })[Symbol.asyncIterator]();
    const next = await lines.next();
    if (next.done) throw new Error(`no MFA code was entered for ${mfaSerial}`);
    return next.value.trim();
  };
}

/**
 * Shows `credchain: <label>…` on stderr while `work` takes longer than `delayMs`, and clears it after.
 * Only on a terminal: piped stderr (scripts, credential_process) gets nothing.
 */
export async function withStatusLine<T>(stderr: Writable & { isTTY?: boolean }, label: string, work: Promise<T>, delayMs = 300): Promise<T> {
  if (!stderr.isTTY) return work;
  let shown = false;
  const timer = setTimeout(() => {
    shown = true;
    stderr.write(`credchain: ${label}…`);
  }, delayMs);
  try {
    return await work;
  } finally {
    clearTimeout(timer);
    if (shown) stderr.write('\r\x1b[K');
  }
}
