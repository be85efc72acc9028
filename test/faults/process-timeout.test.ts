import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fromProcess, ProcessCredentialsError } from '../../src/providers/process/process.js';
import { runLibraryChild } from './helpers/bad-input-child.js';

/**
 * credchain_process past its timeout (issue 18) and the awaited-timer rule (issue 11): real `sh`
 * processes that start children or ignore SIGTERM, run by the library in a child process whose only
 * work is one awaited resolve. There is no retry in credential_process (a failed run is reported
 * as is, as the AWS CLI does), so the awaited paths are the slow success and the timeout.
 */

const dir = mkdtempSync(join(tmpdir(), 'credchain-proc-timeout-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let serial = 0;
const pidFile = () => join(dir, `pid-${++serial}`);
/** Running (a zombie waiting for a slow-reaping init counts as gone: it holds nothing any more). */
const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return !existsSync('/proc/self'); // no procfs (macOS): kill(pid, 0) is all there is
  }
};
const readPid = (file: string) => {
  const pid = Number(readFileSync(file, 'utf8').trim());
  expect(Number.isInteger(pid) && pid > 1, `pid ${pid}`).toBe(true);
  return pid;
};

/** A command whose shell starts `sleep 120` in the background (a grandchild holding our pipes) and waits. */
const grandchild = (file: string, trapTerm = false) =>
  `sh -c "${trapTerm ? "trap '' TERM; " : ''}sleep 120 & echo $! > '${file}'; wait"`;

const CREDS = `{\\"Version\\":1,\\"AccessKeyId\\":\\"AKIDSLOW\\",\\"SecretAccessKey\\":\\"SECRETKEY-canary-slow\\"}`;

function childScript(command: string, timeoutMs: number): string {
  return `import { fromProcess } from './lib.js';
const started = performance.now();
try {
  const c = await fromProcess({ command: ${JSON.stringify(command)}, timeoutMs: ${timeoutMs} })();
  console.log(JSON.stringify({ ok: c.accessKeyId, ms: Math.round(performance.now() - started) }));
} catch (e) {
  console.log(JSON.stringify({ reason: e.reason, message: e.message, ms: Math.round(performance.now() - started) }));
}
`;
}

describe('credential_process in a child process whose only work is one awaited resolve', () => {
  it('a slow command (1.5 s) still prints its credentials: nothing on the awaited path is unref’d', async () => {
    const r = await runLibraryChild(childScript(`sh -c "sleep 1.5; echo '${CREDS}'"`, 10_000));
    expect(r.killed).toBe(false);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout.trim());
    expect(out.ok).toBe('AKIDSLOW');
    expect(out.ms).toBeGreaterThanOrEqual(1_400);
    expect(r.stdout + r.stderr).not.toMatch(/canary/);
  });

  for (const trapTerm of [false, true]) {
    it(`a command whose grandchild keeps the pipes open${trapTerm ? ' and that ignores SIGTERM' : ''}: the error comes at the timeout, the process exits then, and the grandchild is gone`, async () => {
      const file = pidFile();
      const r = await runLibraryChild(childScript(grandchild(file, trapTerm), 700));
      expect(r.killed).toBe(false);
      const out = JSON.parse(r.stdout.trim());
      expect(out.reason).toBe('timeout');
      expect(out.message).toContain('did not finish within 700 ms');
      expect(out.ms).toBeGreaterThanOrEqual(650);
      expect(out.ms).toBeLessThan(5_000);
      // It waited for neither the grandchild's pipes nor the 2 s kill grace period.
      expect(r.exitLagMs).toBeLessThan(1_500);
      const pid = readPid(file);
      await expect.poll(() => isAlive(pid), { timeout: 3_000, interval: 50 }).toBe(false);
    }, 30_000);
  }
});

describe('credential_process timeout in a long-running process (the library)', () => {
  it('stops the whole process group: a grandchild ignoring SIGTERM is killed after the grace period', async () => {
    const file = pidFile();
    const started = performance.now();
    const error = await fromProcess({ command: grandchild(file, true), timeoutMs: 500 })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProcessCredentialsError);
    expect((error as ProcessCredentialsError).reason).toBe('timeout');
    expect(performance.now() - started).toBeLessThan(2_000);
    const pid = readPid(file);
    expect(isAlive(pid)).toBe(true); // SIGTERM is ignored: it lives until the grace period ends
    await expect.poll(() => isAlive(pid), { timeout: 5_000, interval: 100 }).toBe(false);
  }, 15_000);

  it('stops a grandchild that honours SIGTERM at once', async () => {
    const file = pidFile();
    await fromProcess({ command: grandchild(file), timeoutMs: 500 })().catch(() => undefined);
    const pid = readPid(file);
    await expect.poll(() => isAlive(pid), { timeout: 1_000, interval: 50 }).toBe(false);
  }, 15_000);
});
