import { mergeConfig } from 'vitest/config';
import base from './vitest.config';

// Used by Stryker (`npm run mutate`, `npm run mutate:modules`) only: the same tests minus the slow
// ones that spawn child processes or the built CLI, type tests and package-level checks.
// CREDCHAIN_MUTATE_TESTS (comma-separated globs) narrows the run to one module's own tests; it is
// used instead of Stryker's --testFiles, which activates static mutants too late (they would all
// "survive", stryker-js issue 6144).
const config = mergeConfig(base, {
  test: {
    typecheck: { enabled: false },
    // A few tests measure wall-clock time (e.g. calls made in 1.5 s); on 2 shared cores under
    // Stryker's instrumentation they can miss once. A mutant that breaks a test fails every try.
    retry: 2,
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
      'test/import-graph.test.ts',
      'test/providers/metadata/awaited-retries.test.ts',
      'test/providers/profile/aws-cli.test.ts',
      'test/providers/process/process.test.ts',
    ],
  },
});
const only = process.env.CREDCHAIN_MUTATE_TESTS?.split(',').filter(Boolean);
if (only?.length) config.test!.include = only;

export default config;
