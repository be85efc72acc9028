import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'tsup';

const entry = fileURLToPath(new URL('./child-entry.ts', import.meta.url));
let built: Promise<string> | undefined;

/**
 * Bundles `child-entry.ts` (and every dependency, so nothing resolves from node_modules) into a temp
 * dir with tsup, once per test file. Returns the directory; scripts written there import `./lib.js`.
 */
export function buildChildEntry(): Promise<string> {
  built ??= (async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'credchain-faults-'));
    await build({
      entry: { lib: entry },
      format: ['esm'],
      target: 'node20',
      platform: 'node',
      outDir,
      config: false,
      silent: true,
      noExternal: [/./],
    });
    return outDir;
  })();
  return built;
}

export interface ChildResult {
  /** Exit code, or null when the child had to be killed. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Milliseconds from the child's last line of output to its exit (Infinity when killed). */
  exitLagMs: number;
  killed: boolean;
}

/**
 * Writes `script` next to the bundle and runs it with `node ...flags`. The child is killed after
 * `deadlineMs`; `exitLagMs` measures how long it lingered after it last wrote to stdout.
 */
export async function runChild(script: string, flags: string[] = [], deadlineMs = 20_000): Promise<ChildResult> {
  const dir = await buildChildEntry();
  const file = join(dir, `script-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, script);
  const r = await spawnScript(file, { flags, deadlineMs });
  return { code: r.code, stdout: r.stdout, stderr: r.stderr, exitLagMs: r.killed ? Infinity : r.exitLagMs, killed: r.killed };
}

export interface SpawnedScript {
  code: number | null;
  stdout: string;
  stderr: string;
  /** From spawn to the child's own exit. */
  elapsedMs: number;
  /** From the child's last stdout write to its exit. */
  exitLagMs: number;
  killed: boolean;
}

/**
 * Runs `node ...flags file` with only PATH (plus `env`) in its environment; SIGKILL after `deadlineMs`.
 * Resolves on 'exit', not 'close': a descendant that kept our pipes open must not hide when the child
 * itself exited. The one child runner of the fault and metadata tests.
 */
export function spawnScript(file: string, { flags = [], env = {}, deadlineMs = 20_000 }: { flags?: string[]; env?: Record<string, string>; deadlineMs?: number } = {}): Promise<SpawnedScript> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...flags, file], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', ...env } });
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
    child.on('exit', (code) => {
      clearTimeout(timer);
      const now = performance.now();
      // Let the pipes drain before resolving.
      setImmediate(() => resolve({ code, stdout, stderr, elapsedMs: now - started, exitLagMs: now - lastOutputAt, killed }));
    });
  });
}

/** The last line of stdout parsed as JSON. */
export function lastJson<T>(result: ChildResult): T {
  const lines = result.stdout.trim().split('\n');
  return JSON.parse(lines.at(-1) ?? 'null') as T;
}
