// Shared by bench/serve-fleet.mjs and bench/serve-load.mjs: the built CLI's `serve` in a child process.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export const dist = process.env.CREDCHAIN_DIST ? `${process.env.CREDCHAIN_DIST.replace(/\/$/, '')}/` : new URL('../dist/', import.meta.url).pathname;

/** Starts `credchain <args>` (args include `serve`), resolves once it printed its JSON line. */
export function spawnServe(args, env) {
  const child = spawn(process.execPath, [`${dist}cli/main.js`, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent-home', AWS_EC2_METADATA_DISABLED: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  return new Promise((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      if (!out.includes('\n')) return;
      const { url, tokenFile } = JSON.parse(out.slice(0, out.indexOf('\n')));
      resolve({
        url,
        tokenFile,
        token: readFileSync(tokenFile, 'utf8'),
        pid: child.pid,
        output: () => out + err,
        stop: () => (child.kill('SIGTERM'), exited),
      });
    });
    exited.then((code) => reject(new Error(`serve exited (${code}): ${err}`)));
  });
}

/** Resident memory of a process in MB: now (VmRSS) and its peak (VmHWM), from /proc (Linux). */
export function memoryMb(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
    return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
  } catch {
    return { rss: NaN, peak: NaN };
  }
}
