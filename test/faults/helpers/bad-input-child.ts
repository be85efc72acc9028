import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'tsup';

const entry = fileURLToPath(new URL('./bad-input-entry.ts', import.meta.url));
let built: Promise<string> | undefined;

/** Bundles `bad-input-entry.ts` (every dependency inlined) into a temp dir, once per test file. */
function buildEntry(): Promise<string> {
  built ??= (async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'credchain-badinput-'));
    await build({ entry: { lib: entry }, format: ['esm'], target: 'node20', platform: 'node', outDir, config: false, silent: true, noExternal: [/./] });
    return outDir;
  })();
  return built;
}

export interface LibraryChildResult {
  /** Exit code, or null when the deadline killed it. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Milliseconds from the start to the child's exit. */
  elapsedMs: number;
  /** Milliseconds from its last stdout write to its exit. */
  exitLagMs: number;
  killed: boolean;
}

/**
 * Runs `script` (an ES module that imports `./lib.js`) in `node` with stdin not a terminal, the
 * given environment (plus PATH) and a deadline after which it is killed.
 */
export async function runLibraryChild(script: string, env: Record<string, string> = {}, deadlineMs = 20_000): Promise<LibraryChildResult> {
  const dir = await buildEntry();
  const file = join(dir, `script-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, script);
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', ...env } });
    let stdout = '';
    let stderr = '';
    let lastOutputAt = performance.now();
    let killed = false;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      lastOutputAt = performance.now();
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, deadlineMs);
    // 'exit', not 'close': a descendant that kept our pipes open must not hide when the child itself exited.
    child.on('exit', (code) => {
      clearTimeout(timer);
      const now = performance.now();
      setImmediate(() => resolve({ code, stdout, stderr, elapsedMs: now - started, exitLagMs: now - lastOutputAt, killed }));
    });
  });
}
