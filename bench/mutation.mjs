#!/usr/bin/env node
// Mutation testing of the core modules, one module at a time (`npm run mutate:modules [name...]`).
// Each module runs against its own test files (below), which keeps a run to minutes on 2 cores;
// `npm run mutate` runs every module of stryker.config.json against every related test instead.
// Runs are incremental (reports/incremental/<module>.json): a re-run tests only mutants whose code
// or tests changed. Each module's report is kept as reports/mutation/modules/<module>.json, and
// the table for bench/MUTATION.md is printed at the end (`--table` prints it without running).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';

const MODULES = {
  refreshing: ['src/refreshing.ts', 'test/mutation/refreshing.test.ts', 'test/refreshing*.test.ts', 'test/faults/refreshing-*.test.ts'],
  chain: ['src/chain.ts', 'test/mutation/chain.test.ts', 'test/chain.test.ts', 'test/default-chain.test.ts'],
  errors: ['src/errors.ts', 'test/mutation/errors.test.ts', 'test/masking.test.ts', 'test/chain.test.ts'],
  credentials: ['src/credentials.ts', 'test/mutation/credentials.test.ts', 'test/masking.test.ts', 'test/static-env.test.ts'],
  'config/plan': [
    'src/config/plan.ts',
    'test/mutation/plan.test.ts',
    'test/config/*.test.ts',
    'test/conformance/profile-provider.test.ts',
    // The profile provider's tests, but the one that runs the AWS CLI.
    'test/providers/profile/[!a]*.test.ts',
    'test/providers/sso/ini.test.ts',
  ],
  'config/parse': ['src/config/parse.ts', 'test/mutation/parse.test.ts', 'test/config/*.test.ts', 'test/faults/config-parse.property.test.ts'],
  'sts/retry': ['src/sts/retry.ts', 'test/mutation/sts-retry.test.ts', 'test/sts/errors.test.ts', 'test/sts/client-guards.test.ts', 'test/providers/sts/source-retry-and-clients.test.ts'],
  'sts/errors': ['src/sts/errors.ts', 'test/mutation/sts-errors.test.ts', 'test/sts/errors.test.ts'],
  'sts/client': ['src/sts/client.ts', 'test/mutation/sts-client.test.ts', 'test/sts/*.test.ts'],
  ...Object.fromEntries(
    ['instance', 'container', 'endpoint', 'http', 'stability', 'off-host', 'response'].map((m) => [
      `metadata/${m}`,
      // Every metadata test but the child-process one (awaited-retries).
      [`src/providers/metadata/${m}.ts`, 'test/mutation/metadata-*.test.ts', 'test/providers/metadata/[!a]*.test.ts', 'test/faults/imds-outage.test.ts'],
    ]),
  ),
  'sts/session-cache': ['src/providers/sts/session-cache.ts', 'test/mutation/session-cache.test.ts', 'test/providers/sts/*.test.ts'],
};

const args = process.argv.slice(2);
const tableOnly = args.includes('--table');
const wanted = args.filter((a) => !a.startsWith('--'));
const names = wanted.length ? wanted : Object.keys(MODULES);
const file = (name) => name.replaceAll('/', '_');
mkdirSync('reports/mutation/modules', { recursive: true });

if (!tableOnly) {
  for (const name of names) {
    const spec = MODULES[name];
    if (!spec) throw new Error(`unknown module ${name}; known: ${Object.keys(MODULES).join(', ')}`);
    const [mutate, ...tests] = spec;
    const run = spawnSync(
      'npx',
      ['stryker', 'run', '--mutate', mutate, '--incremental', '--incrementalFile', `reports/incremental/${file(name)}.json`],
      // Not --testFiles: it activates static mutants too late (see vitest.mutate.config.ts).
      { stdio: 'inherit', env: { ...process.env, CREDCHAIN_MUTATE_TESTS: tests.join(',') } },
    );
    if (run.status !== 0) {
      console.error(`mutation run of ${name} failed (exit ${run.status}); going on with the next module`);
      process.exitCode = 1;
      continue;
    }
    copyFileSync('reports/mutation/mutation.json', `reports/mutation/modules/${file(name)}.json`);
  }
}

console.log('| module | mutants | killed | survived | timeout | no coverage | score |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const name of names) {
  const path = `reports/mutation/modules/${file(name)}.json`;
  if (!existsSync(path)) continue;
  for (const [src, f] of Object.entries(JSON.parse(readFileSync(path, 'utf8')).files)) {
    const count = (s) => f.mutants.filter((m) => m.status === s).length;
    const valid = f.mutants.filter((m) => !['CompileError', 'RuntimeError', 'Ignored'].includes(m.status)).length;
    const [killed, survived, timeout, noCoverage] = ['Killed', 'Survived', 'Timeout', 'NoCoverage'].map(count);
    const score = valid ? (((killed + timeout) / valid) * 100).toFixed(1) : '-';
    console.log(`| ${src} | ${valid} | ${killed} | ${survived} | ${timeout} | ${noCoverage} | ${score}% |`);
  }
}
