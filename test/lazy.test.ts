import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'tsup';
import { describe, expect, it, onTestFinished } from 'vitest';
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
    // Inside the checkout (.tmp/ is git-ignored) so the bundle's package imports resolve to node_modules.
    mkdirSync(join(root, '.tmp'), { recursive: true });
    const outDir = mkdtempSync(join(root, '.tmp', 'lazy-root-'));
    onTestFinished(() => rmSync(outDir, { recursive: true, force: true }));
    await build({ entry: { index: join(root, 'src/index.ts') }, format: ['esm'], target: 'node20', platform: 'node', outDir, config: false, silent: true, splitting: true });
    // The signer and the XML reader are our own modules: find the chunks that hold them (by a string only
    // they contain) and check, with a resolve hook that logs every loaded URL, that the root import
    // loads none of them, and (control) that the hook sees them when they are loaded.
    const chunks = readdirSync(outDir).filter((f) => f.endsWith('.js'));
    const heavyChunks = HEAVY.map(({ what, marker }) => {
      const holders = chunks.filter((f) => readFileSync(join(outDir, f), 'utf8').includes(marker));
      expect(holders, `the chunk holding the ${what}`).toHaveLength(1);
      expect(holders[0], `the ${what} is not in the root chunk`).not.toBe('index.js');
      return holders[0]!;
    });
    const log = join(outDir, 'resolved.log');
    const hooks = join(outDir, 'hooks.mjs');
    writeFileSync(
      hooks,
      `import { appendFileSync } from 'node:fs';
      let log;
      export function initialize(data) { log = data.log; }
      export async function resolve(specifier, context, next) {
        const result = await next(specifier, context);
        appendFileSync(log, result.url + '\\n');
        return result;
      }`,
    );
    const script = `
      import { register } from 'node:module';
      import { readFileSync, writeFileSync } from 'node:fs';
      register(${JSON.stringify(pathToFileURL(hooks).href)}, { data: { log: ${JSON.stringify(log)} } });
      writeFileSync(${JSON.stringify(log)}, '');
      await import(${JSON.stringify(pathToFileURL(join(outDir, 'index.js')).href)});
      const afterRoot = readFileSync(${JSON.stringify(log)}, 'utf8');
      const loaded = process.moduleLoadList.join('\\n');
      // Control: the hook does see the two chunks when they are loaded.
      ${heavyChunks.map((f) => `await import(${JSON.stringify(pathToFileURL(join(outDir, f)).href)});`).join(' ')}
      const afterControl = readFileSync(${JSON.stringify(log)}, 'utf8');
      console.log(JSON.stringify({
        https: loaded.includes('NativeModule https'),
        tls: loaded.includes('NativeModule tls'),
        childProcess: loaded.includes('NativeModule child_process'),
        crypto: loaded.includes('NativeModule crypto'),
        afterRoot: afterRoot.split('\\n').filter(Boolean),
        afterControl: afterControl.split('\\n').filter(Boolean),
      }));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    const result = JSON.parse(out) as { https: boolean; tls: boolean; childProcess: boolean; crypto: boolean; afterRoot: string[]; afterControl: string[] };
    expect({ https: result.https, tls: result.tls, childProcess: result.childProcess, crypto: result.crypto }).toEqual({ https: false, tls: false, childProcess: false, crypto: false });
    const heavy = (urls: string[]) => heavyChunks.filter((f) => urls.some((u) => u.endsWith(`/${f}`)));
    expect(result.afterRoot.some((u) => u.endsWith('/index.js')), 'the hook saw the root import').toBe(true);
    expect(heavy(result.afterRoot)).toEqual([]);
    expect(heavy(result.afterControl)).toEqual(heavyChunks);
  });
});

/** Loaded on the first STS call, never at import: the SigV4 signer and the XML reader (src/sts/). */
const HEAVY = [
  { what: 'SigV4 signer', marker: 'AWS4-HMAC-SHA256' },
  { what: 'XML reader', marker: 'an unclosed start tag' },
];
