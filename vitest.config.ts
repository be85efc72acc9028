import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

export default defineConfig({
  // Tests written as users write them (`from 'credchain'`) run against the sources.
  resolve: {
    alias: [
      { find: /^credchain\/testing$/, replacement: src('testing/index.ts') },
      { find: /^credchain$/, replacement: src('index.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'] },
    testTimeout: 20_000,
    pool: 'forks',
  },
});
