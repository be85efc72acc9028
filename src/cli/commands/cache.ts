import { EXIT, UsageError, type Command } from '../context.js';
import { terminalSafe } from '../../errors.js';

/** `credchain cache list|clear`: the on-disk session cache (`--cache`, `CREDCHAIN_DISK_CACHE`), secrets masked. */
export const cacheCommand: Command = {
  name: 'cache',
  summary: 'list (masked) or clear the on-disk session cache used with --cache',
  usage: `credchain cache list|clear [--dir DIR]

  list    one line per session entry: file, who wrote it (credchain or aws-cli), the access key id
          masked, expiration, state (valid, expired, corrupt, unsafe); never a secret
  clear   removes every session entry (credchain's and the AWS CLI's assume-role entries) and
          leftover lock files; other files in the directory are left alone
  --dir   the cache directory. Default: CREDCHAIN_DISK_CACHE when it names one, else ~/.aws/cli/cache`,
  async run(ctx, args) {
    const [action, ...rest] = args;
    let dir: string | undefined;
    for (let i = 0; i < rest.length; i += 1) {
      const arg = rest[i]!;
      if (arg === '--dir' || arg.startsWith('--dir=')) {
        dir = arg === '--dir' ? rest[++i] : arg.slice('--dir='.length);
        if (!dir) throw new UsageError('--dir needs a value');
      } else throw new UsageError(`unexpected argument "${terminalSafe(arg.slice(0, 100), { singleLine: true })}"`);
    }
    if (action !== 'list' && action !== 'clear') throw new UsageError(action === undefined ? 'say list or clear' : 'say list or clear');
    const { clearEntries, listEntries, resolveDiskCache } = await import('../../cache/disk.js');
    const where = dir ?? resolveDiskCache(undefined, ctx.env)?.dir ?? resolveDiskCache(true, ctx.env)!.dir;
    if (action === 'clear') {
      const removed = await clearEntries(where);
      ctx.stdout.write(`removed ${removed} session ${removed === 1 ? 'entry' : 'entries'} from ${terminalSafe(where)}\n`);
      return EXIT.ok;
    }
    const entries = await listEntries(where);
    if (entries.length === 0) ctx.stdout.write(`no session entries in ${terminalSafe(where)}\n`);
    for (const e of entries) {
      ctx.stdout.write(`${terminalSafe(e.file, { singleLine: true })}  ${e.writer}  ${e.accessKeyId ?? '-'}  ${e.expiration ?? '-'}  ${e.state}\n`);
    }
    return EXIT.ok;
  },
};
