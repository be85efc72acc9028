import type { Writable } from 'node:stream';
import { format } from 'node:util';
import { terminalSafe } from '../errors.js';
import type { Logger } from '../logger.js';

/** The --debug logger: one line per message on stderr, prefixed with its level. */
export function stderrLogger(stderr: Writable): Logger {
  const line = (level: string) => (...args: unknown[]) => {
    stderr.write(`[credchain ${level}] ${terminalSafe(format(...args))}\n`);
  };
  return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
}
