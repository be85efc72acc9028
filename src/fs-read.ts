import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';

/**
 * The one way credchain reads a file (shared config, token files, the SSO cache, the container
 * authorization token): never blocks on open, reads regular files only, and caps the size.
 *
 * - The open is non-blocking (`O_NONBLOCK`), so a FIFO with no writer opens at once instead of
 *   hanging forever; the handle is then `fstat`ed and anything but a regular file is refused.
 * - A character device that reads as empty at once (`/dev/null`) counts as an empty file, as the
 *   AWS CLI reads `AWS_CONFIG_FILE=/dev/null`; any other device (`/dev/zero`, a terminal) is refused.
 * - A file larger than `maxBytes` is refused with a message saying so, before or while reading.
 */

/** What went wrong, for callers that phrase their own messages. */
export type FileProblem = 'missing' | 'denied' | 'directory' | 'not-regular' | 'too-large' | 'io';

export class FileReadError extends Error {
  override name = 'FileReadError';
  constructor(
    readonly problem: FileProblem,
    /** An errno-style code: ENOENT, EACCES, EISDIR, EFTYPE (not a regular file), EFBIG (too large), ... */
    readonly code: string,
    /** A short human reason, e.g. `it is a FIFO, not a regular file`. */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(reason, options);
  }
}

export interface SafeReadResult {
  readonly text: string;
  /** The `fstat` of the handle that was read (a character device for `/dev/null`). */
  readonly stats: Stats;
}

/** O_NONBLOCK is POSIX; Windows has no FIFOs to block on. */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);
const CHUNK = 64 * 1024;

function sizeText(bytes: number): string {
  return bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : bytes >= 1024 && bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} bytes`;
}

function tooLarge(maxBytes: number): FileReadError {
  return new FileReadError('too-large', 'EFBIG', `it is larger than ${sizeText(maxBytes)}, more than such a file ever holds`);
}

/** Turns an error of open/read into a FileReadError with a reason a user can act on. */
function fromErrno(error: unknown): FileReadError {
  if (error instanceof FileReadError) return error;
  const code = (error as NodeJS.ErrnoException | null)?.code ?? 'EIO';
  if (code === 'ENOENT' || code === 'ENOTDIR') return new FileReadError('missing', code, `it does not exist (${code})`, { cause: error });
  if (code === 'EACCES' || code === 'EPERM') return new FileReadError('denied', code, `permission denied (${code})`, { cause: error });
  if (code === 'EISDIR') return new FileReadError('directory', code, 'it is a directory (EISDIR)', { cause: error });
  if (code === 'ENXIO') return new FileReadError('not-regular', code, 'it is a socket or a device with nothing behind it, not a regular file (ENXIO)', { cause: error });
  return new FileReadError('io', code, `read failed (${code})`, { cause: error });
}

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isSocket()) return 'a socket';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isCharacterDevice()) return 'a character device that does not read as empty';
  return 'not a regular file';
}

function notRegular(stats: Stats): FileReadError {
  if (stats.isDirectory()) return new FileReadError('directory', 'EISDIR', 'it is a directory (EISDIR)');
  return new FileReadError('not-regular', 'EFTYPE', `it is ${kindOf(stats)}, not a regular file`);
}

/** A read of a non-blocking handle that has nothing yet (a terminal): not empty, refused. */
function isWouldBlock(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === 'EAGAIN' || code === 'EWOULDBLOCK';
}

/** Synchronous safe read (the shared config files are read synchronously, see `loadSharedFile`). */
export function readFileSafeSync(path: string, maxBytes: number): SafeReadResult {
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (error) {
    throw fromErrno(error);
  }
  try {
    const stats = fstatSync(fd);
    if (stats.isCharacterDevice()) {
      let n: number;
      try {
        n = readSync(fd, Buffer.alloc(1), 0, 1, null);
      } catch (error) {
        if (isWouldBlock(error)) throw notRegular(stats);
        throw fromErrno(error);
      }
      if (n !== 0) throw notRegular(stats);
      return { text: '', stats };
    }
    if (!stats.isFile()) throw notRegular(stats);
    if (stats.size > maxBytes) throw tooLarge(maxBytes);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buffer = Buffer.allocUnsafe(Math.min(CHUNK, maxBytes + 1 - total));
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      total += n;
      if (total > maxBytes) throw tooLarge(maxBytes);
      chunks.push(buffer.subarray(0, n));
    }
    return { text: Buffer.concat(chunks, total).toString('utf8'), stats };
  } catch (error) {
    throw fromErrno(error);
  } finally {
    closeSync(fd);
  }
}

/** Asynchronous safe read, for files read on a renewal (token files, the SSO cache, ...). */
export async function readFileSafe(path: string, maxBytes: number): Promise<SafeReadResult> {
  let handle;
  try {
    handle = await open(path, OPEN_FLAGS);
  } catch (error) {
    throw fromErrno(error);
  }
  try {
    const stats = await handle.stat();
    if (stats.isCharacterDevice()) {
      let n: number;
      try {
        n = (await handle.read(Buffer.alloc(1), 0, 1, null)).bytesRead;
      } catch (error) {
        if (isWouldBlock(error)) throw notRegular(stats);
        throw fromErrno(error);
      }
      if (n !== 0) throw notRegular(stats);
      return { text: '', stats };
    }
    if (!stats.isFile()) throw notRegular(stats);
    if (stats.size > maxBytes) throw tooLarge(maxBytes);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buffer = Buffer.allocUnsafe(Math.min(CHUNK, maxBytes + 1 - total));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > maxBytes) throw tooLarge(maxBytes);
      chunks.push(buffer.subarray(0, bytesRead));
    }
    return { text: Buffer.concat(chunks, total).toString('utf8'), stats };
  } catch (error) {
    throw fromErrno(error);
  } finally {
    await handle.close();
  }
}

/** Size caps: a shared config file may be large (many profiles); a token or cache file never is. */
export const MAX_CONFIG_FILE_BYTES = 32 * 1024 * 1024;
export const MAX_TOKEN_FILE_BYTES = 1024 * 1024;
