import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config';

// Used by Stryker (`npm run mutate`) only: the same tests minus the slow ones that spawn
// child processes or the built CLI, type tests and package-level checks, which kill no mutant
// in the core modules that the faster tests do not already kill.
export default mergeConfig(base, {
  test: {
    typecheck: { enabled: false },
    setupFiles: ['test/mutation/setup-threads.ts'],
    exclude: [
      '**/node_modules/**',
      'test/cli*.test.ts',
      'test/export-formats.test.ts',
      'test/lazy.test.ts',
      'test/secrets.test.ts',
      'test/readme*.test.ts',
      'test/sdk-integration.test.ts',
      'test/faults/bad-input.test.ts',
      'test/faults/awaited-retries-sts-sso.test.ts',
      'test/providers/ini-aws-cli.test.ts',
      'test/providers/process.test.ts',
    ],
  },
});
