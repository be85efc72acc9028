import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'tsup';

const root = fileURLToPath(new URL('../..', import.meta.url));
let built: Promise<string> | undefined;

/** Bundles the CLI exactly as `npm run build` does (tsup, ESM, node20) into a temp dir, once per test file. */
export function buildCli(): Promise<string> {
  built ??= (async () => {
    // Inside the project, so the bundle's bare imports (@smithy/signature-v4, ...) resolve to our node_modules.
    const cacheDir = join(root, 'node_modules', '.cache');
    mkdirSync(cacheDir, { recursive: true });
    const outDir = mkdtempSync(join(cacheDir, 'credchain-cli-'));
    await build({
      entry: { 'cli/main': join(root, 'src/cli/main.ts') },
      format: ['esm'],
      target: 'node20',
      platform: 'node',
      outDir,
      config: false,
      silent: true,
      noExternal: ['p-retry', 'is-network-error'],
    });
    return join(outDir, 'cli/main.js');
  })();
  return built;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI in a child process with exactly the given environment (plus PATH, a HOME without ~/.aws, IMDS off). */
export async function runCli(args: string[], env: Record<string, string> = {}, input?: string): Promise<CliResult> {
  const cli = await buildCli();
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [cli, ...args],
      {
        // IMDS off unless a test points it at a local server: tests never reach the real link-local address.
        env: { PATH: process.env.PATH ?? '', HOME: env.HOME ?? '/nonexistent-home', AWS_EC2_METADATA_DISABLED: 'true', ...env },
        timeout: 30_000,
      },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}
