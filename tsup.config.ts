import { defineConfig } from 'tsup';

const shared = { target: 'node20', platform: 'node', sourcemap: false } as const;
// p-retry is ESM-only: bundle it (and its one dependency) so `require('credchain')` works everywhere; with it
// bundled, the published package has no runtime dependencies (p-retry is a devDependency).
const bundled = ['p-retry', 'is-network-error'];

export default defineConfig([
  {
    // The package root on its own, so code splitting cuts it only where it loads lazily (heavy.ts):
    // the root's import graph stays two small files.
    ...shared,
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    splitting: true,
    noExternal: bundled,
  },
  {
    // The testing kit is used in tests only; built apart so it does not add chunks to the root.
    ...shared,
    entry: { 'testing/index': 'src/testing/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    splitting: true,
    noExternal: bundled,
  },
  {
    ...shared,
    entry: { 'cli/main': 'src/cli/main.ts' },
    format: ['esm'],
    splitting: true,
    noExternal: bundled,
  },
]);
