import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Conformance data is read in place from the shared folder next to the repository; never copied. */
export const CONFORMANCE_DIR = fileURLToPath(new URL('../../../shared/conformance/', import.meta.url));

export function readConformanceJson<T>(relativePath: string): T {
  return JSON.parse(readFileSync(new URL(relativePath, `file://${CONFORMANCE_DIR}`), 'utf8')) as T;
}
