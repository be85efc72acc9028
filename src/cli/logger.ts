import type { Writable } from 'node:stream';
import { format } from 'node:util';
import type { Logger } from '../logger.js';

/** The --debug logger: one line per message on stderr, prefixed with its level. */
export function stderrLogger(stderr: Writable): Logger {
  const line = (level: string) => (...args: unknown[]) => {
    stderr.write(`[credchain ${level}] ${format(...args)}\n`);
  };
  return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
}
