import { execFile, spawn } from 'node:child_process';
import { PassThrough, Writable } from 'node:stream';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { run } from '../src/cli/main.js';
import { startImdsServer, IMDS_PATHS } from '../src/testing/imds-server.js';
import { fromIni } from '../src/providers/profile/ini.js';
import { clearStsSessionCache } from '../src/providers/sts/session-cache.js';
import { startStsServer, STS_SERVER_DEFAULT_USER as USER, type StsServer } from '../src/testing/sts-server.js';
import { makeAwsHome, type AwsHome } from './helpers/aws-home.js';
import { buildCli, runCli } from './helpers/built-cli.js';

/**
 * The commands through the CLI as `npm run build` bundles it, in a child process whose environment
 * is exactly what each test gives (runCli: PATH, a HOME, IMDS disabled), STS pointed at a local server
 * with AWS_ENDPOINT_URL_STS. No test reaches a real AWS or link-local address.
 */

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/deploy`;
const MFA_SERIAL = `arn:aws:iam::${ACCOUNT}:mfa/alice`;
const MFA_CODE = '314159';
const KEYS = { AWS_ACCESS_KEY_ID: USER.accessKeyId, AWS_SECRET_ACCESS_KEY: USER.secretAccessKey };

let sts: StsServer;
let home: AwsHome;
let cli: string;

beforeAll(async () => {
  cli = await buildCli();
}, 60_000);
beforeEach(async () => {
  sts = await startStsServer({ account: ACCOUNT, mfaTokenCodes: { [MFA_SERIAL]: MFA_CODE } });
  home = makeAwsHome({
    credentials: `[src]\naws_access_key_id = ${USER.accessKeyId}\naws_secret_access_key = ${USER.secretAccessKey}\n`,
    config: [
      '[profile deploy]',
      `role_arn = ${ROLE}`,
      'source_profile = src',
      'role_session_name = cli-test',
      '',
      '[profile mfa]',
      `role_arn = ${ROLE}`,
      'source_profile = src',
      `mfa_serial = ${MFA_SERIAL}`,
      '',
      // The CLI itself as a credential_process, exactly as the README suggests.
      '[profile viaproc]',
      `credential_process = ${process.execPath} ${cli} export --format process --profile src`,
      '',
    ].join('\n'),
  });
});
afterEach(async () => {
  clearStsSessionCache();
  await sts.close();
  home.remove();
});

/** The environment of a user whose STS is the local server. */
const stsEnv = () => ({ HOME: home.home, AWS_ENDPOINT_URL_STS: sts.url, AWS_REGION: REGION });
/** Every secret the test knows of: the user's key and every session the server issued. */
const secrets = () => [USER.secretAccessKey, ...sts.issued.flatMap((c) => [c.secretAccessKey, c.sessionToken])];
const expectNoSecret = (text: string) => {
  for (const secret of secrets()) expect(text).not.toContain(secret);
};

describe('credchain whoami', () => {
  it('prints account, ARN, user id and the provider, from GetCallerIdentity at the local STS', async () => {
    const r = await runCli(['whoami'], { ...stsEnv(), ...KEYS });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Account:  ${ACCOUNT}`);
    expect(r.stdout).toContain(`ARN:      arn:aws:iam::${ACCOUNT}:user/${USER.accessKeyId}`);
    expect(r.stdout).toMatch(/UserId:   AIDA\w+/);
    expect(r.stdout).toContain('Provider: env (access key ****MPLE)');
    expect(sts.requests.map((r) => [r.action, r.signatureValid, r.signingRegion])).toEqual([['GetCallerIdentity', true, REGION]]);
    expectNoSecret(r.stdout);
  });

  it('--profile with a role profile: AssumeRole with the source profile keys, then whoami as the role', async () => {
    // Environment keys are present but --profile skips the environment link (as the AWS CLI does).
    const r = await runCli(['--profile', 'deploy', 'whoami'], { ...stsEnv(), AWS_ACCESS_KEY_ID: 'AKIDIGNOREDBYPROFILE', AWS_SECRET_ACCESS_KEY: 'ignored' });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`ARN:      arn:aws:sts::${ACCOUNT}:assumed-role/deploy/cli-test`);
    expect(r.stdout).toContain('Provider: ini');
    expect(sts.requests.map((q) => [q.action, q.accessKeyId, q.signatureValid])).toEqual([
      ['AssumeRole', USER.accessKeyId, true],
      ['GetCallerIdentity', sts.issued[0]!.accessKeyId, true],
    ]);
    expectNoSecret(r.stdout + r.stderr);
  });

  it('--profile=NAME and --profile after the command work the same', async () => {
    for (const args of [['--profile=deploy', 'whoami'], ['whoami', '--profile', 'deploy']]) {
      const r = await runCli(args, stsEnv());
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toContain('assumed-role/deploy/cli-test');
    }
  });
});

describe('MFA', () => {
  it('a profile with mfa_serial asks on stderr, reads the code from stdin, and sends SerialNumber and TokenCode', async () => {
    const r = await runCli(['--profile', 'mfa', 'export', '--format', 'json'], stsEnv(), `${MFA_CODE}\n`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe(`Enter MFA code for ${MFA_SERIAL}: `);
    const assume = sts.requests.find((q) => q.action === 'AssumeRole')!;
    expect(assume.params).toMatchObject({ SerialNumber: MFA_SERIAL, TokenCode: MFA_CODE, RoleArn: ROLE });
    const json = JSON.parse(r.stdout) as Record<string, string>;
    expect(json.AccessKeyId).toBe(sts.issued[0]!.accessKeyId);
  });

  it('a wrong code: exit 1 with the STS error, no secret; no status line on a non-terminal stderr', async () => {
    const r = await runCli(['--profile', 'mfa', 'whoami'], stsEnv(), '000000\n');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`Enter MFA code for ${MFA_SERIAL}: `);
    expect(r.stderr).toContain('AccessDenied');
    expect(r.stderr).not.toContain('resolving credentials');
    expectNoSecret(r.stderr);
  });

  /** The built CLI with a stdin that stays open (like a terminal) until the test ends it. */
  const spawnOpenStdin = (args: string[]) => {
    const child = spawn(process.execPath, [cli, ...args], {
      env: { PATH: process.env.PATH ?? '', AWS_EC2_METADATA_DISABLED: 'true', ...stsEnv() },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out = { stdout: '', stderr: '' };
    child.stdout.on('data', (d) => (out.stdout += d));
    child.stderr.on('data', (d) => (out.stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const waitFor = (stream: 'stdout' | 'stderr', text: string) =>
      new Promise<void>((resolve) => {
        const check = () => (out[stream].includes(text) ? resolve() : setTimeout(check, 10));
        check();
      });
    return { child, out, exited, waitFor };
  };

  it('after the code is read, stdin is released: the CLI exits while stdin stays open (a terminal)', async () => {
    const { child, out, exited, waitFor } = spawnOpenStdin(['--profile', 'mfa', 'export', '--format', 'json']);
    try {
      await waitFor('stderr', 'Enter MFA code');
      child.stdin.write(`${MFA_CODE}\n`);
      const code = await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 5_000))]);
      expect(code, out.stderr).toBe(0);
      expect(JSON.parse(out.stdout).AccessKeyId).toBe(sts.issued[0]!.accessKeyId);
    } finally {
      child.kill();
    }
  });

  it('exec after an MFA prompt: the command gets the rest of stdin', async () => {
    const echo = 'console.log("ready"); process.stdin.on("data", (d) => { console.log(`child read: ${String(d).trim()}`); process.exit(0); });';
    const { child, out, exited, waitFor } = spawnOpenStdin(['--profile', 'mfa', 'exec', '--', process.execPath, '-e', echo]);
    try {
      await waitFor('stderr', 'Enter MFA code');
      // In one chunk: the CLI must take the code line and nothing after it.
      child.stdin.write(`${MFA_CODE}\nhello\n`);
      const code = await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 5_000))]);
      expect(out.stdout).toBe('ready\nchild read: hello\n');
      expect(code, out.stderr).toBe(0);
    } finally {
      child.kill();
    }
  });

  it('no code at all (stdin closed): exit 1 with a message that says so', async () => {
    const r = await runCli(['--profile', 'mfa', 'export'], stsEnv());
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`no MFA code was entered for ${MFA_SERIAL}`);
    expect(sts.counts.AssumeRole ?? 0).toBe(0);
  });
});

describe('--debug', () => {
  it('logs what the providers do to stderr, line by line, with no secret anywhere', async () => {
    const r = await runCli(['--debug', '--profile', 'deploy', 'whoami'], stsEnv());
    expect(r.code).toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines) expect(line).toMatch(/^\[credchain (debug|info|warn|error)\] /);
    expect(r.stderr).toContain('deploy');
    expect(r.stderr).toContain('AssumeRole');
    expectNoSecret(r.stdout + r.stderr);
  });

  it('without --debug, stderr stays empty on success', async () => {
    const r = await runCli(['--profile', 'deploy', 'whoami'], stsEnv());
    expect(r.stderr).toBe('');
  });
});

describe('exit codes and messages', () => {
  it('0 when credentials resolve', async () => {
    expect((await runCli(['export'], { ...stsEnv(), ...KEYS })).code).toBe(0);
  });

  it('1 when no provider has credentials, with every link and its reason on stderr', async () => {
    for (const command of ['export', 'whoami', 'explain']) {
      const r = await runCli([command], stsEnv());
      expect(r.code, command).toBe(1);
      const text = command === 'explain' ? r.stdout : r.stderr;
      for (const link of ['env', 'ini', 'token-file', 'container-metadata', 'instance-metadata']) expect(text).toContain(link);
    }
    expect(sts.requests).toHaveLength(0);
  });

  it('1 when nothing resolves, and the chain ran once: the message comes from that run, not a second one', async () => {
    const imds = await startImdsServer({ roleName: null });
    try {
      const r = await runCli(['export'], { ...stsEnv(), AWS_EC2_METADATA_DISABLED: 'false', AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.endpoint });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('no credentials found');
      expect(r.stderr).toMatch(/skipped\s+instance-metadata/);
      expect(imds.requests.filter((q) => q.path === IMDS_PATHS.roleList)).toHaveLength(1);
    } finally {
      await imds.close();
    }
  });

  it('1 for a named profile that fails, with the profile named and no fall-through', async () => {
    const r = await runCli(['--profile', 'nope', 'export'], { ...stsEnv(), AWS_EC2_METADATA_DISABLED: 'false', AWS_EC2_METADATA_SERVICE_ENDPOINT: 'http://127.0.0.1:9' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Profile `nope` was not found');
    expect(r.stderr).toContain('deploy'); // the profiles that exist
    // whoami says the same, not "no credentials found" (it used to, for any failure).
    const whoami = await runCli(['--profile', 'nope', 'whoami'], stsEnv());
    expect(whoami.code).toBe(1);
    expect(whoami.stderr).toContain('Profile `nope` was not found');
    expect(whoami.stderr).not.toContain('no credentials found');
    expect(sts.requests).toHaveLength(0);
  });

  it('1 when STS refuses, with the STS error code', async () => {
    sts.inject({ kind: 'error', status: 403, code: 'AccessDenied', message: 'not allowed to assume', action: 'AssumeRole' });
    const r = await runCli(['--profile', 'deploy', 'export'], stsEnv());
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('AccessDenied');
  });

  it('2 for usage errors, with the usage', async () => {
    const cases: Array<[string[], string]> = [
      [['frobnicate'], 'unknown command "frobnicate"'],
      [[], 'no command given'],
      [['--profile'], '--profile needs a value'],
      [['export', '--format', 'yaml'], 'unknown --format "yaml"'],
      [['export', '--nope'], '--nope'],
      [['exec'], 'exec needs a command'],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args, { ...stsEnv(), ...KEYS });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stderr).toContain('credchain');
      expect(r.stdout).toBe('');
    }
  });
});

describe('--help', () => {
  for (const command of ['whoami', 'export', 'exec', 'explain', 'demo']) {
    it(`credchain ${command} --help (and -h, and --help before the command) prints its usage, exit 0`, async () => {
      const outputs = await Promise.all([[command, '--help'], [command, '-h'], ['--help', command]].map((args) => runCli(args)));
      for (const r of outputs) {
        expect(r.code).toBe(0);
        expect(r.stdout.startsWith(`credchain ${command}`)).toBe(true);
        expect(r.stderr).toBe('');
      }
      expect(new Set(outputs.map((r) => r.stdout)).size).toBe(1);
    });
  }

  it('credchain --help lists every command and the exit codes', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const command of ['whoami', 'export', 'exec', 'explain', 'demo']) expect(r.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    expect(r.stdout).toContain('0 ok, 1 no credentials');
  });
});

describe('credchain as a credential_process', () => {
  it('our own fromIni resolves a profile whose credential_process is `credchain export --format process --profile src`', async () => {
    const provider = fromIni({ profile: 'viaproc', env: { HOME: home.home, PATH: process.env.PATH, AWS_EC2_METADATA_DISABLED: 'true' } });
    const credentials = await provider();
    expect(credentials.accessKeyId).toBe(USER.accessKeyId);
    expect(credentials.secretAccessKey).toBe(USER.secretAccessKey);
  });

  it('the CLI resolves it too (credchain calling credchain), and whoami verifies at the local STS', async () => {
    const r = await runCli(['--profile', 'viaproc', 'whoami'], stsEnv());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`user/${USER.accessKeyId}`);
    expect(sts.requests[0]).toMatchObject({ action: 'GetCallerIdentity', signatureValid: true });
  });
});

/** The real AWS CLI, when it runs here (there may be a broken shim): probed once, skipped cleanly otherwise. */
function runAws(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('aws', args, { env: { PATH: process.env.PATH ?? '', AWS_EC2_METADATA_DISABLED: 'true', ...env }, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 127) : 0, stdout, stderr }),
    );
  });
}
const awsProbe = await runAws(['--version'], { HOME: '/nonexistent-home' });
const awsVersion = awsProbe.code === 0 ? (awsProbe.stdout + awsProbe.stderr).trim() : undefined;
const exportCredentialsProbe = awsVersion ? await runAws(['configure', 'export-credentials', 'help'], { HOME: '/nonexistent-home' }) : undefined;
const hasExportCredentials = exportCredentialsProbe !== undefined && !/Invalid choice/.test(exportCredentialsProbe.stderr);

describe(`the real AWS CLI with credential_process = credchain (${awsVersion ?? 'aws not runnable here: skipped'})`, () => {
  it.skipIf(!awsVersion)('aws sts get-caller-identity --profile viaproc signs with what credchain printed; the local STS verifies it', async () => {
    const r = await runAws(['sts', 'get-caller-identity', '--profile', 'viaproc', '--endpoint-url', sts.url, '--region', REGION, '--output', 'json'], {
      HOME: home.home,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/${USER.accessKeyId}` });
    expect(sts.requests).toHaveLength(1);
    expect(sts.requests[0]).toMatchObject({ action: 'GetCallerIdentity', accessKeyId: USER.accessKeyId, signatureValid: true });
  });

  it.skipIf(!hasExportCredentials)('aws configure export-credentials --profile viaproc --format process (AWS CLI v2 only)', async () => {
    const r = await runAws(['configure', 'export-credentials', '--profile', 'viaproc', '--format', 'process'], { HOME: home.home });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ Version: 1, AccessKeyId: USER.accessKeyId, SecretAccessKey: USER.secretAccessKey });
  });
});

/** A stderr that says it is a terminal and keeps what was written. */
class FakeTerminal extends Writable {
  text = '';
  constructor(readonly isTTY: boolean) {
    super();
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

describe('the status line (in-process run(), stderr a fake terminal)', () => {
  const sink = () => new FakeTerminal(false);

  it('a slow metadata call shows "resolving credentials" on a terminal and clears it after', async () => {
    const imds = await startImdsServer();
    try {
      imds.addFault({ path: IMDS_PATHS.credentials('credchain-test-role'), delayMs: 150 });
      const stderr = new FakeTerminal(true);
      const env = { HOME: home.home, AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.endpoint };
      const code = await run(['export'], { env, stderr, stdout: sink(), stdin: new PassThrough(), statusDelayMs: 20 });
      expect(code).toBe(0);
      expect(stderr.text).toBe('credchain: resolving credentials…\r\x1b[K');
    } finally {
      await imds.close();
    }
  });

  it('the same on a non-terminal stderr: nothing at all', async () => {
    const imds = await startImdsServer();
    try {
      imds.addFault({ path: IMDS_PATHS.credentials('credchain-test-role'), delayMs: 150 });
      const stderr = new FakeTerminal(false);
      const env = { HOME: home.home, AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.endpoint };
      expect(await run(['export'], { env, stderr, stdout: sink(), stdin: new PassThrough(), statusDelayMs: 20 })).toBe(0);
      expect(stderr.text).toBe('');
    } finally {
      await imds.close();
    }
  });

  it('an MFA prompt on a terminal is not overwritten by the status line while it waits for the code', async () => {
    const stderr = new FakeTerminal(true);
    const stdin = new PassThrough();
    const prompted = new Promise<void>((resolve) => {
      const write = stderr.write.bind(stderr);
      stderr.write = ((chunk: unknown, ...rest: never[]) => {
        const result = write(chunk as string, ...rest);
        if (String(chunk).startsWith('Enter MFA code')) setTimeout(resolve, 100); // well past statusDelayMs
        return result;
      }) as typeof stderr.write;
    });
    const done = run(['--profile', 'mfa', 'export'], { env: stsEnv(), stderr, stdout: sink(), stdin, statusDelayMs: 20 });
    await prompted;
    // While the prompt waits, the terminal line shows the prompt alone: any status line was cleared first.
    const visibleLine = (text: string) => text.split('\r\x1b[K').at(-1);
    expect(visibleLine(stderr.text)).toBe(`Enter MFA code for ${MFA_SERIAL}: `);
    stdin.end(`${MFA_CODE}\n`);
    expect(await done).toBe(0);
    expect(visibleLine(stderr.text)).not.toContain('resolving credentials');
    expect(sts.requests.find((q) => q.action === 'AssumeRole')!.params.TokenCode).toBe(MFA_CODE);
  });
});
