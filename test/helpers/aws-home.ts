import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A temp HOME with `.aws/config` and `.aws/credentials` holding the given text (empty when omitted). */
export interface AwsHome {
  readonly home: string;
  readonly configPath: string;
  readonly credentialsPath: string;
  /** Writes another file under the home (e.g. a token file) and returns its path. */
  write(relativePath: string, text: string): string;
  remove(): void;
}

export function makeAwsHome(files: { config?: string; credentials?: string } = {}): AwsHome {
  const home = mkdtempSync(path.join(os.tmpdir(), 'credchain-home-'));
  mkdirSync(path.join(home, '.aws'));
  const configPath = path.join(home, '.aws', 'config');
  const credentialsPath = path.join(home, '.aws', 'credentials');
  if (files.config !== undefined) writeFileSync(configPath, files.config);
  if (files.credentials !== undefined) writeFileSync(credentialsPath, files.credentials);
  return {
    home,
    configPath,
    credentialsPath,
    write(relativePath, text) {
      const file = path.join(home, relativePath);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, text);
      return file;
    },
    remove: () => rmSync(home, { recursive: true, force: true }),
  };
}

/** An unsigned JWT with the given claims (the local STS checks its shape and claims, not a signature). */
export function unsignedJwt(claims: Record<string, unknown>): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'RS256', typ: 'JWT' })}.${part(claims)}.c2lnbmF0dXJl`;
}
