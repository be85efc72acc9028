// Install footprint: node_modules size and package count of a fresh install of each package.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { row } from './lib.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const npm = (args, cwd) => execFileSync('npm', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });

function sizeOf(dir) {
  let bytes = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) bytes += sizeOf(path);
    else if (entry.isFile()) bytes += statSync(path).size;
  }
  return bytes;
}

/** Packages in a node_modules tree: every folder holding a package.json with a name, nested ones included. */
function countPackages(nodeModules) {
  let count = 0;
  const visit = (dir) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.name.startsWith('@')) visit(path);
      else {
        count += 1;
        visit(join(path, 'node_modules'));
      }
    }
  };
  visit(nodeModules);
  return count;
}

function install(spec) {
  const dir = mkdtempSync(join(tmpdir(), 'credchain-footprint-'));
  writeFileSync(join(dir, 'package.json'), '{"name":"footprint","version":"1.0.0","private":true}');
  npm(['install', '--no-audit', '--no-fund', '--ignore-scripts', '--prefer-offline', '--omit=dev', spec], dir);
  const nodeModules = join(dir, 'node_modules');
  const result = { bytes: sizeOf(nodeModules), packages: countPackages(nodeModules) };
  rmSync(dir, { recursive: true, force: true });
  return result;
}

export async function benchFootprint() {
  const packDir = mkdtempSync(join(tmpdir(), 'credchain-pack-'));
  const tarball = npm(['pack', '--silent', '--pack-destination', packDir], root).trim().split('\n').pop();
  const ours = install(join(packDir, tarball));
  const sdk = install('@aws-sdk/credential-providers');
  rmSync(packDir, { recursive: true, force: true });
  const anchor = '@aws-sdk/credential-providers';
  return [
    row('install footprint: node_modules size (KiB)', ours.bytes / 1024, sdk.bytes / 1024, 'KiB', 0.5, anchor),
    row('install footprint: packages installed', ours.packages, sdk.packages, 'pkgs', 0.5, anchor),
  ];
}
