import { defineConfig } from 'tsup';

const shared = { target: 'node20', platform: 'node', sourcemap: false } as const;
// Bundled into dist, so the published package has no runtime dependencies: p-retry (ESM-only, with its
// one dependency) and lru-cache while the STS session cache still uses it. All are devDependencies.
const bundled = ['p-retry', 'is-network-error', 'lru-cache'];

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
