import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { RecordedTraffic } from '../../src/testing/replay-server.js';

/** `test-case.json`'s `result` in the smithy-rs scenario folders. */
export interface Expected {
  Ok?: { access_key_id: string; secret_access_key: string; session_token?: string; account_id?: string; expiry?: number };
  ErrorContains?: string;
}

/** The three JSON files of one smithy-rs scenario folder, read in place. */
export async function readScenario(caseDir: string): Promise<{ rawEnv: Record<string, string>; traffic: RecordedTraffic; expected: Expected }> {
  const read = async (file: string) => JSON.parse(await readFile(path.join(caseDir, file), 'utf8')) as unknown;
  return {
    rawEnv: (await read('env.json')) as Record<string, string>,
    traffic: (await read('http-traffic.json')) as RecordedTraffic,
    expected: ((await read('test-case.json')) as { result: Expected }).result,
  };
}

/** Every file below `dir` (none when it does not exist). */
export async function filesUnder(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}
