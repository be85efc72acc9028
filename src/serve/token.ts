import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync, type Stats } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CredentialsError } from '../errors.js';
import { FileReadError, readFileSafeSync } from '../fs-read.js';

/** Where the token lives and whether the server made it (then `remove()` deletes what it made). */
export interface ServerToken {
  /** The token itself: kept in memory, never printed or logged. */
  readonly token: string;
  readonly file: string;
  /** True when the file was written now (generated), false when an existing file was read. */
  readonly generated: boolean;
  /** A warning about the file to show once (e.g. readable by others), if any. */
  readonly warning?: string;
  /** Deletes the file (and its temp dir) when the server generated it into a temp dir; else nothing. */
  remove(): void;
}

const PROVIDER = 'credchain serve';
/** Shortest token read from a file we accept: a guessable token makes the whole endpoint guessable. */
const MIN_TOKEN_CHARS = 16;

/** 32 random bytes, base64url: 43 characters, no padding, no character any client mangles in a header. */
export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The token from `file` (trailing whitespace ignored, as clients send the header without it), or a
 * new one written there with mode 0600 when the file does not exist. Without `file`, a new token in
 * a fresh 0700 temp dir, removed by `remove()`. The file is written without a trailing newline:
 * botocore sends the file's text as it is and refuses a token holding a line break.
 */
export function loadOrCreateToken(file: string | undefined): ServerToken {
  if (file === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'credchain-serve-'));
    const path = join(dir, 'token');
    const token = generateToken();
    writeFileSync(path, token, { mode: 0o600, flag: 'wx' });
    return { token, file: path, generated: true, remove: () => rmSync(dir, { recursive: true, force: true }) };
  }
  let text: string;
  let stats: Stats;
  try {
    // The project's one reader: read-only, non-blocking (a FIFO does not hang us), size-capped.
    ({ text, stats } = readFileSafeSync(file, 4096));
  } catch (error) {
    if (!(error instanceof FileReadError) || error.problem !== 'missing' || error.code !== 'ENOENT') {
      const reason = error instanceof FileReadError ? error.reason : 'read failed';
      throw new CredentialsError(`${PROVIDER}: cannot read the token file ${file}: ${reason}`, { providerName: PROVIDER });
    }
    const token = generateToken();
    try {
      writeFileSync(file, token, { mode: 0o600, flag: 'wx' });
      chmodSync(file, 0o600); // the umask cannot widen it, but an odd one could narrow it to unreadable
    } catch (writeError) {
      const writeCode = (writeError as NodeJS.ErrnoException).code ?? 'error';
      throw new CredentialsError(`${PROVIDER}: cannot write the token file ${file} (${writeCode})`, { providerName: PROVIDER });
    }
    return { token, file, generated: true, remove: () => {} };
  }
  const token = text.replace(/\s+$/, '');
  if (token.length < MIN_TOKEN_CHARS) {
    throw new CredentialsError(`${PROVIDER}: the token file ${file} holds ${token.length === 0 ? 'no token' : `a token shorter than ${MIN_TOKEN_CHARS} characters`}; delete it to have a new one generated`, {
      providerName: PROVIDER,
    });
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(token)) {
    throw new CredentialsError(`${PROVIDER}: the token in ${file} contains a line break or control character (clients cannot send it in a header)`, {
      providerName: PROVIDER,
    });
  }
  const mode = stats.mode & 0o777;
  const warning =
    (mode & 0o077) !== 0
      ? `the token file ${file} is readable by other users (mode ${mode.toString(8).padStart(4, '0')}); chmod 600 it unless that is intended`
      : text !== token
        ? `the token file ${file} ends in whitespace; credchain ignores it, but botocore sends the file as it is and refuses a line break`
        : undefined;
  return { token, file, generated: false, ...(warning ? { warning } : {}), remove: () => {} };
}

/** A compare of a presented token with the expected one in constant time (both hashed to equal-length digests). */
export function tokenChecker(token: string): (presented: string | undefined) => boolean {
  const expected = createHash('sha256').update(token).digest();
  return (presented) => {
    if (presented === undefined) return false;
    const digest = createHash('sha256').update(presented).digest();
    return timingSafeEqual(digest, expected);
  };
}
