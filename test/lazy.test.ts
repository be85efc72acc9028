import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'tsup';
import { describe, expect, it } from 'vitest';
import { lazyProvider } from '../src/lazy.js';
import { mockProvider } from '../src/testing/index.js';
import { explain, fromProcess } from '../src/index.js';

const creds = { accessKeyId: 'AKIDLAZY', secretAccessKey: 's' };

describe('lazyProvider', () => {
  it('builds the inner provider once, on the first call, and delegates invalidate()', async () => {
    let builds = 0;
    const inner = mockProvider(creds);
    const p = lazyProvider('lazy', async () => {
      builds += 1;
      return inner;
    });
    expect(builds).toBe(0);
    p.invalidate(); // nothing built yet: a no-op
    await Promise.all([p(), p(), p()]);
    expect(builds).toBe(1);
    expect(inner.calls).toBe(3);
    p.invalidate();
    expect(inner.invalidations).toBe(1);
  });

  it('does not remember a failed build (bad options), and names the provider in explain', async () => {
    let n = 0;
    const p = lazyProvider('flaky', async () => {
      n += 1;
      if (n === 1) throw new Error('bad option');
      return mockProvider(creds);
    });
    await expect(p()).rejects.toThrow('bad option');
    expect((await explain(p)).winner).toBe('flaky');
  });

  it('reports option errors of a lazily loaded provider at the first call', async () => {
    await expect(fromProcess({ command: '' })()).rejects.toThrow(/credential_process|command/);
  });
});

describe('importing the package root', () => {
  it('loads neither TLS, child_process, the SigV4 signer nor the XML parser', async () => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const outDir = mkdtempSync(join(tmpdir(), 'credchain-root-'));
    await build({ entry: { index: join(root, 'src/index.ts') }, format: ['esm'], target: 'node20', platform: 'node', outDir, config: false, silent: true, splitting: true });
    const script = `
      await import(${JSON.stringify(join(outDir, 'index.js'))});
      const loaded = process.moduleLoadList.join('\\n');
      console.log(JSON.stringify({
        https: loaded.includes('NativeModule https'),
        tls: loaded.includes('NativeModule tls'),
        childProcess: loaded.includes('NativeModule child_process'),
        crypto: loaded.includes('NativeModule crypto'),
      }));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ https: false, tls: false, childProcess: false, crypto: false });
  });
});
