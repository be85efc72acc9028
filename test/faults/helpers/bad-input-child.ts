import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'tsup';
import { spawnScript, type SpawnedScript } from './child-process.js';

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

export type LibraryChildResult = SpawnedScript;

/**
 * Runs `script` (an ES module that imports `./lib.js`) in `node` with stdin not a terminal, the
 * given environment (plus PATH) and a deadline after which it is killed.
 */
export async function runLibraryChild(script: string, env: Record<string, string> = {}, deadlineMs = 20_000): Promise<LibraryChildResult> {
  const dir = await buildEntry();
  const file = join(dir, `script-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, script);
  return spawnScript(file, { env, deadlineMs });
}
