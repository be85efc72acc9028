import type { HttpRequestError } from '../../http/request.js';

/** System error codes that mean "no metadata service on this network", not "it is having trouble". */
const ABSENT_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'EADDRNOTAVAIL', 'ETIMEDOUT']);

/** True for a transport failure that, on the very first contact, means we are not on EC2. */
export function meansNoMetadataService(failure: HttpRequestError): boolean {
  return failure.kind === 'timeout' || (failure.kind === 'network' && failure.code !== undefined && ABSENT_CODES.has(failure.code));
}

// Process-wide on purpose: every provider (and every new default chain) in a process off EC2 should
// skip the wait, not only the one that found out.
const absentUntilMs = new Map<string, number>();

/** Remembers that nothing answered at `endpoint`, until `untilMs`. */
export function rememberAbsent(endpoint: string, untilMs: number): void {
  absentUntilMs.set(endpoint, untilMs);
}

/** True while an earlier first contact with `endpoint` found nothing there. */
export function isKnownAbsent(endpoint: string, nowMs: number): boolean {
  const until = absentUntilMs.get(endpoint);
  if (until === undefined) return false;
  if (nowMs < until) return true;
  absentUntilMs.delete(endpoint);
  return false;
}

// Endpoints that answered in this process: the evidence that we run on EC2 (see the region lookup).
const answered = new Set<string>();

/** Remembers that `endpoint` answered (any HTTP status): this process runs where instance metadata exists. */
export function rememberAnswered(endpoint: string): void {
  answered.add(endpoint);
}

/** True once `endpoint` has answered in this process. */
export function hasAnswered(endpoint: string): boolean {
  return answered.has(endpoint);
}

/** Forgets every remembered endpoint, absent or answered (for tests and long-lived processes that move networks). */
export function forgetAbsentMetadataEndpoints(): void {
  absentUntilMs.clear();
  answered.clear();
}
