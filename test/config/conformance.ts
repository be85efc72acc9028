import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The cross-SDK conformance data (smithy-rs and botocore test vectors, Apache-2.0; see fixtures/README.md),
 * found relative to this file so the tests pass wherever the checkout lies. Every test reads conformance
 * data through this module and nowhere else.
 */
export const CONFORMANCE_DIR = fileURLToPath(new URL('../../fixtures/conformance/', import.meta.url));

/** An absolute path inside the conformance folder, e.g. `conformancePath('smithy-rs', 'assume-role-tests.json')`. */
export function conformancePath(...segments: string[]): string {
  return path.join(CONFORMANCE_DIR, ...segments);
}

export function readConformanceJson<T>(relativePath: string): T {
  return JSON.parse(readFileSync(conformancePath(relativePath), 'utf8')) as T;
}
