import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

describe('README', () => {
  const readme = read('README.md');

  it('opens with the two commands that set up a fresh clone and prove it', () => {
    const firstBlock = readme.match(/```sh\n([\s\S]*?)```/)?.[1];
    expect(firstBlock).toBe('npm ci && npm run demo\nnpm test\n');
  });

  it('shows the testing-kit example exactly as the test suite runs it', () => {
    expect(readme).toContain(read('test/readme-example.test.ts'));
  });

  it('names every public provider', () => {
    for (const name of ['fromStatic', 'fromEnv', 'fromIni', 'fromProcess', 'fromAssumeRole', 'fromWebIdentity', 'fromTokenFile', 'fromSaml', 'fromSessionToken', 'fromFederationToken', 'fromInstanceMetadata', 'fromContainerMetadata', 'defaultChain', 'chain', 'refreshing', 'explain', 'StsClient']) {
      expect(readme).toContain(`\`${name}`);
    }
  });
});
