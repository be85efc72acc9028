import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'tsup';
import type { ChildResult } from '../../../faults/helpers/child-process.js';
import { spawnScript } from '../../../faults/helpers/child-process.js';

const entry = fileURLToPath(new URL('./metadata-child-entry.ts', import.meta.url));
let built: Promise<string> | undefined;

/**
 * Bundles the metadata providers twice into one temp dir, as `lib.mjs` (ESM) and `lib.cjs` (CommonJS),
 * with every dependency inlined. Same approach as test/faults/helpers/child-process.ts, which builds ESM only.
 */
export function buildMetadataChild(): Promise<string> {
  built ??= (async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'credchain-metadata-child-'));
    await build({
      entry: { lib: entry },
      format: ['esm', 'cjs'],
      outExtension: ({ format }) => ({ js: format === 'esm' ? '.mjs' : '.cjs' }),
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

/** Writes `script` (ESM `.mjs` or CommonJS `.cjs`) next to the bundles and runs it; killed after `deadlineMs`. */
export async function runMetadataChild(script: string, kind: 'esm' | 'cjs', deadlineMs = 20_000): Promise<ChildResult> {
  const dir = await buildMetadataChild();
  const file = join(dir, `script-${Math.random().toString(36).slice(2)}.${kind === 'esm' ? 'mjs' : 'cjs'}`);
  writeFileSync(file, script);
  const r = await spawnScript(file, { deadlineMs });
  return { code: r.code, stdout: r.stdout, stderr: r.stderr, exitLagMs: r.killed ? Infinity : r.exitLagMs, killed: r.killed };
}
