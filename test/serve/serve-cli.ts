import { spawn, type ChildProcess } from 'node:child_process';
import { buildCli } from '../helpers/built-cli.js';

export interface ServeChild {
  readonly url: string;
  readonly tokenFile: string;
  readonly child: ChildProcess;
  /** Everything printed so far. */
  stdout(): string;
  stderr(): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** Starts the built CLI's `serve` in a child process and waits for its JSON line. */
export async function spawnServe(args: string[], env: Record<string, string>): Promise<ServeChild> {
  const cli = await buildCli();
  const child = spawn(process.execPath, [cli, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent-home', AWS_EC2_METADATA_DISABLED: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve printed nothing in 20 s; stderr: ${err}`)), 20_000);
    const check = () => {
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve(out.slice(0, out.indexOf('\n')));
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${code}) before listening; stderr: ${err}`));
    });
  });
  const { url, tokenFile } = JSON.parse(line) as { url: string; tokenFile: string };
  return {
    url,
    tokenFile,
    child,
    stdout: () => out,
    stderr: () => err,
    stop: () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
