import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  chain,
  clearStsSessionCache,
  CredentialsError,
  defaultChain,
  explain,
  fromAssumeRole,
  fromContainerMetadata,
  fromEnv,
  fromFederationToken,
  fromIni,
  fromInstanceMetadata,
  fromProcess,
  fromSaml,
  fromSessionToken,
  fromStatic,
  fromTokenFile,
  fromWebIdentity,
  isNotFound,
  refreshing,
  StsClient,
  StsError,
  type CredentialProvider,
  type Credentials,
} from '../src/index.js';
import { makeCredentials } from '../src/credentials.js';
import { createFakeClock, IMDS_PATHS, startStsServer } from '../src/testing/index.js';
import { buildCli, runCli, type CliResult } from './helpers/built-cli.js';
import { canaryJwt, canarySamlAssertion, SecretProbe, type Leak } from './helpers/secrets-probe.js';
import { EXTERNAL_ID, MFA_CODE, MFA_SERIAL, PRINCIPAL, ROLE, startSecretsWorld, type SecretsWorld } from './helpers/secrets-world.js';

/**
 * Issue 8, "Secrets": every provider, chain, refreshing, explain, the STS client and the built CLI
 * run with canary secrets (secret keys, session tokens, web identity tokens, SAML assertions, the
 * container authorization token) against local servers and temp files, through their success and
 * error paths. Everything they print or throw is recorded (results, errors with stacks and causes,
 * providers, logger lines, CLI stdout/stderr, each by util.inspect at depth Infinity, JSON.stringify,
 * String and template literals) and searched for the canaries. Only `credchain export` (stdout) and
 * `credchain exec` (the child's environment) hand secrets out, on purpose, and only there.
 */

let w: SecretsWorld;
let probe: SecretProbe;

beforeAll(async () => {
  w = await startSecretsWorld();
});
afterAll(async () => {
  await w?.close();
});
afterEach(() => {
  clearStsSessionCache();
});

/** Fails with every place a canary was found; also fails when the probe recorded nothing. */
function expectNoLeaks(p: SecretProbe = probe, extraSecrets: string[] = []): void {
  expect(p.counts.values + p.counts.outputs).toBeGreaterThan(0);
  const leaks: Leak[] = p.leaks([...w.secrets(), ...extraSecrets]);
  expect(leaks, leaks.map((l) => `${l.label}: ${l.found}\n    …${l.excerpt}…`).join('\n')).toEqual([]);
}

const newProbe = () => (probe = new SecretProbe());
/** STS client settings pointing at the local STS: no environment, no retry waits. */
const stsOptions = () => ({ endpoint: w.sts.url, region: 'us-east-1', env: {}, maxRetries: 0, baseDelay: 0 });
const common = () => ({ sts: stsOptions(), logger: probe.logger, sessionCache: false });
const userSource = () => fromStatic({ ...w.user });
const lastIssued = () => w.sts.issued.at(-1)!;

/** Resolves a provider, records it, the result, a second (cached) call and explain(), and checks the result. */
async function resolves(label: string, provider: CredentialProvider, expected?: Partial<Credentials> | (() => Partial<Credentials>)): Promise<Credentials> {
  const creds = await probe.result(label, () => provider());
  probe.see(`${label} provider`, provider);
  probe.see(`${label} explain`, await explain(provider));
  const status = (provider as { status?: () => unknown }).status;
  if (typeof status === 'function') probe.see(`${label} status`, status());
  if (expected) expect({ ...creds }).toMatchObject(typeof expected === 'function' ? expected() : expected);
  expect(creds.secretAccessKey.length).toBeGreaterThan(0);
  return creds;
}

/** Runs a provider expected to fail, records the error and explain(), and returns the error. */
async function fails(label: string, provider: CredentialProvider): Promise<Error> {
  const error = await probe.failure(label, () => provider());
  probe.see(`${label} provider`, provider);
  probe.see(`${label} explain`, await explain(provider));
  return error;
}

describe('the probe', () => {
  it('finds a canary printed by a plain object, a partial quote, an issued secret, and none in masked credentials', () => {
    const p = new SecretProbe();
    p.see('plain', { secretAccessKey: w.envKeys.secretAccessKey });
    expect(p.leaks().map((l) => l.label)).toContain('plain');

    const partial = new SecretProbe();
    partial.text('quote', `token starts ${w.samlAssertion.slice(0, 20)}`);
    expect(partial.leaks([w.samlAssertion])).not.toEqual([]);

    const issued = new SecretProbe();
    issued.logger.debug('x', new Error(`nested ${'Zm9vYmFyYmF6cXV4cXV1eGZvb2Jhcg=='}`));
    expect(issued.leaks(['Zm9vYmFyYmF6cXV4cXV1eGZvb2Jhcg=='])).not.toEqual([]);

    const cause = new SecretProbe();
    cause.see('wrapped', new CredentialsError('outer', { cause: new Error(`inner ${w.envKeys.sessionToken}`) }));
    expect(cause.leaks().some((l) => l.label.includes('cause#1'))).toBe(true);

    const masked = new SecretProbe();
    masked.see('masked', makeCredentials({ ...w.envKeys, expiration: new Date(0) }));
    expect(masked.leaks(w.secrets())).toEqual([]);
  });
});

describe('static, env, chain, refreshing, explain', () => {
  it('fromStatic: results, provider and validation errors', async () => {
    newProbe();
    await resolves('static', fromStatic({ ...w.envKeys, expiration: new Date(Date.now() + 3600e3), accountId: '111122223333' }), { ...w.envKeys });
    const { secretAccessKey, sessionToken } = w.envKeys;
    for (const [label, input] of [
      ['no key id', { secretAccessKey, sessionToken }],
      ['empty key id', { accessKeyId: ' ', secretAccessKey }],
      ['no secret', { accessKeyId: 'AKIAX', sessionToken }],
      ['empty token', { accessKeyId: 'AKIAX', secretAccessKey, sessionToken: '' }],
      ['bad expiration', { accessKeyId: 'AKIAX', secretAccessKey, sessionToken, expiration: new Date(NaN) }],
      ['not an object', secretAccessKey],
    ] as const) {
      const error = await probe.failure(`static ${label}`, () => fromStatic(input as never));
      expect(error).toBeInstanceOf(CredentialsError);
    }
    expectNoLeaks();
  });

  it('fromEnv: every variable, partial pairs, bad expiration; chain and explain around it', async () => {
    newProbe();
    const env = { AWS_ACCESS_KEY_ID: w.envKeys.accessKeyId, AWS_SECRET_ACCESS_KEY: w.envKeys.secretAccessKey, AWS_SESSION_TOKEN: w.envKeys.sessionToken, AWS_CREDENTIAL_EXPIRATION: '2040-01-01T00:00:00Z', AWS_ACCOUNT_ID: '111122223333' };
    await resolves('env', fromEnv({ env }), { ...w.envKeys });
    expect((await fails('env secret only', fromEnv({ env: { AWS_SECRET_ACCESS_KEY: w.envKeys.secretAccessKey, AWS_SESSION_TOKEN: w.envKeys.sessionToken } }))).message).toContain('AWS_SECRET_ACCESS_KEY is set');
    expect((await fails('env bad expiration', fromEnv({ env: { ...env, AWS_CREDENTIAL_EXPIRATION: w.envKeys.sessionToken } }))).message).toContain('AWS_CREDENTIAL_EXPIRATION');

    const c = chain(fromEnv({ env: {} }), fromEnv({ env }));
    await resolves('chain skip then env', c, { accessKeyId: w.envKeys.accessKeyId });
    const broken = chain(fromEnv({ env: {} }), fromEnv({ env: { AWS_SECRET_ACCESS_KEY: w.envKeys.secretAccessKey } }), fromStatic({ ...w.envKeys }));
    expect(await fails('chain stops at a real failure', broken)).not.toSatisfy(isNotFound);
    expect(isNotFound(await fails('chain of nothing', chain(fromEnv({ env: {} }), fromEnv({ env: {} }))))).toBe(true);
    const ex = await explain(broken);
    expect(ex.tried.map((t) => t.outcome)).toEqual(['skipped', 'failed']);
    probe.see('explain toString', String(ex));
    expectNoLeaks();
  });

  it('refreshing: cached gets, background and mandatory renewal failures logged, expired answers refused, status', async () => {
    newProbe();
    const clock = createFakeClock(Date.UTC(2031, 0, 1));
    const sts = await startStsServer({ users: { [w.user.accessKeyId]: w.user.secretAccessKey }, now: clock.now });
    try {
      const inner = fromSessionToken({ source: userSource(), sts: { ...stsOptions(), endpoint: sts.url, now: clock.now }, durationSeconds: 3600, refresh: false, sessionCache: false, logger: probe.logger });
      const cache = refreshing(inner, { now: clock.now, logger: probe.logger, random: () => 0 });
      const first = await resolves('refreshing first', cache);
      expect(await cache()).toBe(first);
      // Advisory window: the background renewal fails with an STS error echoing the caller's key material.
      clock.advance(46 * 60_000);
      sts.inject({ kind: 'error', status: 400, code: 'InvalidClientTokenId', message: `The security token ${w.user.secretAccessKey} is invalid` });
      expect(await probe.result('refreshing advisory', () => cache())).toBe(first);
      await new Promise((r) => setTimeout(r, 50));
      probe.see('refreshing status after failure', cache.status());
      // Mandatory window: the renewal fails again; the still-valid credentials are served with a warning.
      clock.advance(9 * 60_000);
      sts.inject({ kind: 'server-error' });
      expect(await probe.result('refreshing mandatory', () => cache())).toBe(first);
      // Past expiry: the renewal's error is thrown.
      clock.advance(10 * 60_000);
      sts.inject({ kind: 'truncate' });
      await probe.failure('refreshing expired', () => cache());
      probe.see('refreshing status expired', cache.status());
      expect(w.secrets().length).toBeGreaterThan(0);
      expectNoLeaks(probe, sts.issued.flatMap((c) => [c.secretAccessKey, c.sessionToken]));

      const expired = refreshing(() => Promise.resolve(makeCredentials({ ...w.envKeys, expiration: new Date(clock.now() - 1) })), { now: clock.now, logger: probe.logger });
      expect((await fails('refreshing refuses expired', expired)).message).toContain('refusing to use them');
      expect(probe.counts.logLines).toBeGreaterThan(0);
      expectNoLeaks(probe, sts.issued.flatMap((c) => [c.secretAccessKey, c.sessionToken]));
    } finally {
      await sts.close();
    }
  });
});

describe('credential_process', () => {
  it('fromProcess: success, and failures whose stdout holds secrets (exit code, bad JSON, version, expired, missing field, oversized, timeout, signal)', async () => {
    newProbe();
    await resolves('process ok', fromProcess({ command: w.processCommand('ok'), env: {}, profileName: 'proc' }), { ...w.processCreds });
    const cases = [
      ['exit-after-stdout', /exited with code 3.*session refused/s],
      ['bad-json', /did not print valid JSON/],
      ['version-2', /Version 2/],
      ['expired', /expired at 2001/],
      ['no-secret', /printed no SecretAccessKey/],
      ['huge', /more than 2000 bytes/],
      ['hang', /did not finish within 1000 ms/],
      ['killed', /killed by SIGKILL/],
    ] as const;
    const errors = await Promise.all(
      cases.map(([mode]) => fails(`process ${mode}`, fromProcess({ command: w.processCommand(mode), env: {}, profileName: 'proc', timeoutMs: 1000, maxOutputBytes: 2000 }))),
    );
    errors.forEach((e, i) => expect(e.message).toMatch(cases[i]![1]));
    await fails('process unsplittable', fromProcess({ command: `node "${w.processArgSecret}`, env: {} }));
    await fails('process missing program', fromProcess({ command: `/nonexistent/helper ${w.processArgSecret}`, env: {} }));
    expectNoLeaks();
  });
});

describe('STS-backed providers against the local STS', () => {
  it('fromAssumeRole: one hop, a role chain, external id, MFA; denied, wrong code, failing callbacks and sources, echoed tokens', async () => {
    newProbe();
    const hop1 = fromAssumeRole({ ...common(), roleArn: ROLE('a'), source: userSource(), roleSessionName: 's1' });
    const hop2 = fromAssumeRole({ ...common(), roleArn: ROLE('b'), source: hop1, roleSessionName: 's2' });
    await resolves('assume-role hop 1', hop1);
    await resolves('assume-role chain', hop2, () => ({ accessKeyId: lastIssued().accessKeyId }));
    await resolves('assume-role external id', fromAssumeRole({ ...common(), roleArn: ROLE('ext'), externalId: EXTERNAL_ID, source: userSource() }));
    await resolves('assume-role mfa', fromAssumeRole({ ...common(), roleArn: ROLE('mfa'), source: userSource(), mfaSerial: MFA_SERIAL, tokenCode: () => MFA_CODE }));

    expect((await fails('assume-role denied', fromAssumeRole({ ...common(), roleArn: ROLE('not-allowed'), source: userSource() }))).message).toContain('AccessDenied');
    expect((await fails('assume-role wrong external id', fromAssumeRole({ ...common(), roleArn: ROLE('ext'), externalId: 'nope', source: userSource() }))).message).toContain('AccessDenied');
    await fails('assume-role wrong mfa code', fromAssumeRole({ ...common(), roleArn: ROLE('mfa'), source: userSource(), mfaSerial: MFA_SERIAL, tokenCode: () => '000000' }));
    await fails('assume-role tokenCode throws', fromAssumeRole({ ...common(), roleArn: ROLE('mfa'), source: userSource(), mfaSerial: MFA_SERIAL, tokenCode: () => Promise.reject(new Error('no device')) }));
    await fails('assume-role unknown key', fromAssumeRole({ ...common(), roleArn: ROLE('a'), source: fromStatic({ ...w.envKeys }) }));
    await fails('assume-role wrong secret', fromAssumeRole({ ...common(), roleArn: ROLE('a'), source: fromStatic({ accessKeyId: w.user.accessKeyId, secretAccessKey: w.envKeys.secretAccessKey }) }));
    await fails('assume-role source fails', fromAssumeRole({ ...common(), roleArn: ROLE('a'), source: fromEnv({ env: { AWS_SECRET_ACCESS_KEY: w.envKeys.secretAccessKey } }) }));
    await probe.failure('assume-role bad options', () => fromAssumeRole({ roleArn: ' ', source: userSource() }));
    await probe.failure('assume-role mfa without tokenCode', () => fromAssumeRole({ roleArn: ROLE('a'), source: userSource(), mfaSerial: MFA_SERIAL }));

    // STS answers that echo what the second hop sent: its source's session token, and key material.
    const hop1Creds = await hop1();
    w.sts.inject({ kind: 'error', status: 403, code: 'InvalidClientTokenId', message: `The security token ${hop1Creds.sessionToken} (secret ${hop1Creds.secretAccessKey}) is invalid`, action: 'AssumeRole' });
    const echo = await fails('assume-role echoed token', fromAssumeRole({ ...common(), roleArn: ROLE('b'), source: hop1, refresh: false }));
    expect(echo.message).toContain('The security token **** (secret ****) is invalid');
    for (const fault of [{ kind: 'truncate' }, { kind: 'non-xml' }, { kind: 'empty' }, { kind: 'reset' }, { kind: 'throttle' }] as const) {
      w.sts.inject({ ...fault, action: 'AssumeRole' });
      await fails(`assume-role fault ${fault.kind}`, fromAssumeRole({ ...common(), roleArn: ROLE('a'), source: userSource(), refresh: false }));
    }
    expect(probe.counts.logLines).toBeGreaterThan(0);
    expectNoLeaks();
  });

  it('fromWebIdentity and fromTokenFile: tokens from options, callbacks and files; rejected, expired, missing and empty tokens, echoed tokens', async () => {
    newProbe();
    await resolves('web identity', fromWebIdentity({ ...common(), roleArn: ROLE('webid'), webIdentityToken: w.webIdentityToken }), () => ({ accessKeyId: lastIssued().accessKeyId }));
    await resolves('web identity getToken', fromWebIdentity({ ...common(), roleArn: ROLE('webid'), getToken: () => w.webIdentityToken }));
    const expiredJwt = canaryJwt({ sub: 's', iss: 'https://oidc.example.com', exp: 1 });
    const notJwt = `opaque-${w.processArgSecret}`;
    const echoed = canaryJwt({ sub: 's', iss: 'https://oidc.example.com' });
    w.sts.inject({ kind: 'error', status: 400, code: 'InvalidIdentityToken', message: `Token ${echoed} is not valid` });
    expect((await fails('web identity echoed', fromWebIdentity({ ...common(), roleArn: ROLE('webid'), webIdentityToken: echoed }))).message).toContain('Token **** is not valid');
    await fails('web identity expired', fromWebIdentity({ ...common(), roleArn: ROLE('webid'), webIdentityToken: expiredJwt }));
    await fails('web identity not a JWT', fromWebIdentity({ ...common(), roleArn: ROLE('webid'), webIdentityToken: notJwt }));
    await fails('web identity denied', fromWebIdentity({ ...common(), roleArn: ROLE('not-allowed'), webIdentityToken: w.webIdentityToken }));
    await fails('web identity getToken throws', fromWebIdentity({ ...common(), roleArn: ROLE('webid'), getToken: () => Promise.reject(new Error('idp down')) }));
    await fails('web identity too long', fromWebIdentity({ ...common(), roleArn: ROLE('webid'), webIdentityToken: w.webIdentityToken.repeat(1000) }));

    await resolves('token file', fromTokenFile({ ...common(), webIdentityTokenFile: w.tokenFile, roleArn: ROLE('webid') }));
    await resolves('token file from env', fromTokenFile({ ...common(), env: { AWS_WEB_IDENTITY_TOKEN_FILE: w.tokenFile, AWS_ROLE_ARN: ROLE('webid') } }));
    expect(isNotFound(await fails('token file not configured', fromTokenFile({ ...common(), env: {} })))).toBe(true);
    await fails('token file missing', fromTokenFile({ ...common(), webIdentityTokenFile: path.join(w.dir, 'nope'), roleArn: ROLE('webid') }));
    await fails('token file is a directory', fromTokenFile({ ...common(), webIdentityTokenFile: w.dir, roleArn: ROLE('webid') }));
    await fails('token file without role', fromTokenFile({ ...common(), webIdentityTokenFile: w.tokenFile, env: {} }));
    await fails('token file denied', fromTokenFile({ ...common(), webIdentityTokenFile: w.tokenFile, roleArn: ROLE('not-allowed') }));
    expect(probe.counts.errors).toBeGreaterThan(8);
    expectNoLeaks(probe, [expiredJwt, notJwt, echoed]);
  });

  it('fromSaml, fromSessionToken, fromFederationToken: success, MFA, rejections, echoed assertions', async () => {
    newProbe();
    await resolves('saml', fromSaml({ ...common(), roleArn: ROLE('saml'), principalArn: PRINCIPAL, samlAssertion: w.samlAssertion }), () => ({ accessKeyId: lastIssued().accessKeyId }));
    await resolves('saml callback', fromSaml({ ...common(), roleArn: ROLE('saml'), principalArn: PRINCIPAL, samlAssertion: async () => w.samlAssertion }));
    const expired = canarySamlAssertion('bob', new Date(Date.UTC(2001, 0, 1)));
    const notSaml = Buffer.from(`plain text ${w.processArgSecret}`).toString('base64') + 'SAMLcanary';
    await fails('saml expired', fromSaml({ ...common(), roleArn: ROLE('saml'), principalArn: PRINCIPAL, samlAssertion: expired }));
    await fails('saml not xml', fromSaml({ ...common(), roleArn: ROLE('saml'), principalArn: PRINCIPAL, samlAssertion: notSaml }));
    await fails('saml callback throws', fromSaml({ ...common(), roleArn: ROLE('saml'), principalArn: PRINCIPAL, samlAssertion: () => Promise.reject(new Error('idp down')) }));
    w.sts.inject({ kind: 'error', status: 400, code: 'InvalidIdentityToken', message: `SAMLResponse ${w.samlAssertion} rejected` });
    expect((await fails('saml echoed', fromSaml({ ...common(), roleArn: ROLE('saml'), principalArn: PRINCIPAL, samlAssertion: w.samlAssertion }))).message).toContain('SAMLResponse **** rejected');

    await resolves('session token', fromSessionToken({ ...common(), source: userSource() }), () => ({ accessKeyId: lastIssued().accessKeyId }));
    await resolves('session token mfa', fromSessionToken({ ...common(), source: userSource(), mfaSerial: MFA_SERIAL, tokenCode: () => MFA_CODE }));
    await fails('session token mfa wrong', fromSessionToken({ ...common(), source: userSource(), mfaSerial: MFA_SERIAL, tokenCode: () => '999999' }));
    const session = fromSessionToken({ ...common(), source: userSource() });
    await fails('session token from session credentials', fromSessionToken({ ...common(), source: session }));

    await resolves('federation token', fromFederationToken({ ...common(), source: userSource(), name: 'app', policy: '{"Version":"2012-10-17","Statement":[]}' }));
    await fails('federation token from session credentials', fromFederationToken({ ...common(), source: session, name: 'app' }));
    await fails('federation token bad name', fromFederationToken({ ...common(), source: userSource(), name: 'x' }));
    expectNoLeaks(probe, [expired, notSaml]);
  });
});
