import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';

/**
 * Replaces `file` with `text` so that a reader sees the old file or the new one, never half of one:
 * the text goes to a new temp file next to it (created exclusively, mode 0600, fsynced), which is
 * then renamed over `file` (the umask can only narrow `mode`). Used for token caches (SSO, `aws login`), which hold secrets: the mode
 * is 0600 whatever the old file's was. On failure the temp file is removed and `file` is untouched.
 */
export async function writeFileAtomic(file: string, text: string, mode = 0o600): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', mode);
  try {
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}
