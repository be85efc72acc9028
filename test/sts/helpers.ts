import { afterEach } from 'vitest';
import { StsClient, type StsClientOptions } from '../../src/sts/index.js';
import { startStsServer, STS_SERVER_DEFAULT_USER, type StsServer, type StsServerOptions } from '../../src/testing/sts-server.js';

export const USER = STS_SERVER_DEFAULT_USER;
export const ROLE_ARN = 'arn:aws:iam::111122223333:role/deploy';

const open: StsServer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

/** A local STS server closed after the test. */
export async function server(options?: StsServerOptions): Promise<StsServer> {
  const s = await startStsServer(options);
  open.push(s);
  return s;
}

/** A client pointed at `s`, signed with the default user, with instant retries. */
export function clientFor(s: StsServer, options: StsClientOptions = {}): StsClient {
  return new StsClient({
    endpoint: s.url,
    region: 'us-west-2',
    credentials: { accessKeyId: USER.accessKeyId, secretAccessKey: USER.secretAccessKey },
    baseDelay: 0,
    env: {},
    ...options,
  });
}

/** An unsigned JWT with the given claims (the local server checks shape and claims, not the signature). */
export function jwt(claims: Record<string, unknown>): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'RS256', typ: 'JWT' })}.${part(claims)}.c2lnbmF0dXJl`;
}

/** A log sink collecting every line. */
export function captureLogger() {
  const lines: string[] = [];
  const sink = (...args: unknown[]) => lines.push(args.map(String).join(' '));
  return { lines, logger: { debug: sink, info: sink, warn: sink, error: sink } };
}
