import { defineConfig } from 'tsup';

const shared = { target: 'node20', platform: 'node', sourcemap: false, splitting: true } as const;
// p-retry is ESM-only: bundle it (and its one dependency) so `require('credchain')` works everywhere.
const bundled = ['p-retry', 'is-network-error'];

export default defineConfig([
  {
    ...shared,
    entry: { index: 'src/index.ts', 'testing/index': 'src/testing/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    noExternal: bundled,
  },
  {
    ...shared,
    entry: { 'cli/main': 'src/cli/main.ts' },
    format: ['esm'],
    noExternal: bundled,
  },
]);
