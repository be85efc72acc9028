import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Credentials } from '../../credentials.js';
import { defaultChain } from '../../default-chain.js';
import { explain } from '../../explain.js';
import { fromAssumeRole } from '../../providers/sts/index.js';
import { StsClient } from '../../sts/client.js';
import { startImdsServer } from '../../testing/imds-server.js';
import { startStsServer, STS_SERVER_DEFAULT_USER } from '../../testing/sts-server.js';
import { maskAccessKeyId } from '../../credentials.js';
import { EXIT, expectNoArgs, type Command } from '../context.js';

const REGION = 'us-east-1';
const CLEANUP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const ACCOUNT = '123456789012';

const describe = (c: Credentials) =>
  `access key ${maskAccessKeyId(c.accessKeyId)}, secret ****, ${c.expiration ? `expires ${c.expiration.toISOString()}` : 'no expiration'}`;

export const demoCommand: Command = {
  name: 'demo',
  summary: 'run the library end to end against a local STS and IMDS (no AWS account needed)',
  usage: `credchain demo

Starts the testing kit's local STS and instance metadata (IMDS) servers on loopback, resolves a
default chain (it reaches instance metadata) and a two-hop role chain on top of it, and prints what
resolved, from which provider, with masked keys and expirations, and how many requests each server
received. It ignores your AWS_* variables and ~/.aws files, so it shows the same on every machine.`,
  async run(ctx, args) {
    expectNoArgs(args);
    const out = (line = '') => ctx.stdout.write(`${line}\n`);
    const home = mkdtempSync(join(tmpdir(), 'credchain-demo-'));
    // Ctrl-C, kill, a closed terminal: remove the temporary home, then end as that signal would have.
    const onSignal = (signal: NodeJS.Signals) => {
      rmSync(home, { recursive: true, force: true });
      for (const s of CLEANUP_SIGNALS) process.off(s, onSignal);
      process.kill(process.pid, signal);
    };
    for (const s of CLEANUP_SIGNALS) process.on(s, onSignal);
    let sts: Awaited<ReturnType<typeof startStsServer>> | undefined;
    let imds: Awaited<ReturnType<typeof startImdsServer>> | undefined;
    try {
      sts = await startStsServer({ account: ACCOUNT });
      // The instance role's credentials are a session the local STS issued, so it accepts them later.
      const bootstrap = new StsClient({ endpoint: sts.url, region: REGION, credentials: { ...STS_SERVER_DEFAULT_USER } });
      const session = (await bootstrap.getSessionToken({ durationSeconds: 21_600 })).credentials;
      imds = await startImdsServer({
        roleName: 'credchain-demo-instance-role',
        credentials: { accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey, sessionToken: session.sessionToken! },
      });
      sts.clearLog();

      // An environment of our own: none of the user's AWS_* variables, an empty HOME.
      const env = { HOME: home, PATH: process.env.PATH ?? '' };
      const stsOptions = { endpoint: sts.url, region: REGION, maxRetries: 0 };
      const chain = defaultChain({ env, sts: stsOptions, instanceMetadata: { endpoint: imds.endpoint } });

      out('credchain demo: local STS at ' + sts.url + ', local IMDS at ' + imds.endpoint);
      out();
      out('1. defaultChain(): environment -> profile -> token file -> container -> instance metadata');
      const explanation = await explain(chain);
      out(String(explanation).replace(/^/gm, '   '));
      out();

      out('2. A two-hop role chain on top: instance role -> demo-hop-1 -> demo-hop-2');
      const common = { sts: { ...stsOptions, env }, region: REGION, sessionCache: false } as const;
      const hop1 = fromAssumeRole({ ...common, roleArn: `arn:aws:iam::${ACCOUNT}:role/demo-hop-1`, roleSessionName: 'credchain-demo-1', source: chain });
      const hop2 = fromAssumeRole({ ...common, roleArn: `arn:aws:iam::${ACCOUNT}:role/demo-hop-2`, roleSessionName: 'credchain-demo-2', source: hop1 });
      const results = await Promise.all(Array.from({ length: 100 }, () => hop2()));
      out(`   100 concurrent calls -> ${new Set(results).size} credentials object, ${sts.counts.AssumeRole ?? 0} AssumeRole requests (one per hop)`);
      out(`   hop 1: ${describe(await hop1())}`);
      out(`   hop 2: ${describe(results[0]!)}`);
      const identity = await new StsClient({ ...stsOptions, env, credentials: hop2 }).getCallerIdentity();
      out(`   GetCallerIdentity with hop 2: ${identity.arn}`);
      out();

      out('3. Requests the servers received');
      out(`   STS:  ${Object.entries(sts.counts).map(([k, v]) => `${k}=${v}`).join(', ')}`);
      out(`   IMDS: total=${imds.requests.length} (${imds.requests.map((r) => `${r.method} ${r.path}`).join(', ')})`);
      out();
      out('Every key above is masked; no secret key or session token was printed.');
      return EXIT.ok;
    } finally {
      for (const s of CLEANUP_SIGNALS) process.off(s, onSignal);
      await Promise.all([sts?.close(), imds?.close()]);
      rmSync(home, { recursive: true, force: true });
    }
  },
};
