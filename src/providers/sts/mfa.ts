import { callbackError, optionError } from './errors.js';
import type { RenewalState } from './provider.js';

/** Returns a fresh six-digit MFA code (from a prompt, an authenticator app, a secrets store...). */
export type TokenCodeFn = () => Promise<string> | string;

/** The MFA options of the STS-backed providers that can use one (assume role, session token). */
export interface MfaOptions {
  /** The MFA device's serial number or ARN; needs `tokenCode`. */
  readonly mfaSerial?: string;
  /** Asked for a fresh six-digit code once per renewal that calls STS. */
  readonly tokenCode?: TokenCodeFn;
}

/** `mfaSerial` and `tokenCode` come together: a clear error when the provider is created, before any request. */
export function checkMfaOptions(providerName: string, fn: string, options: MfaOptions): void {
  const { mfaSerial, tokenCode } = options;
  if (mfaSerial !== undefined && (typeof mfaSerial !== 'string' || mfaSerial.trim() === ''))
    throw optionError(providerName, fn, 'mfaSerial, when given, must be a non-empty string (the MFA device serial number or ARN)');
  if (tokenCode !== undefined && typeof tokenCode !== 'function')
    throw optionError(providerName, fn, 'tokenCode must be a function that returns a fresh MFA code (it is asked again for each renewal)');
  if (tokenCode !== undefined && mfaSerial === undefined)
    throw optionError(providerName, fn, 'tokenCode is set but mfaSerial is not: pass mfaSerial, the serial number or ARN of the MFA device the code comes from');
  if (mfaSerial !== undefined && tokenCode === undefined)
    throw optionError(providerName, fn, `mfaSerial ${mfaSerial} is set but tokenCode is not: pass tokenCode, an async function returning the current six-digit MFA code`);
}

const CODE = 'tokenCode';

/** The MFA code for this renewal: asked for once, and reused if the renewal retries. */
export async function askTokenCode(providerName: string, options: MfaOptions, state: RenewalState): Promise<string | undefined> {
  if (options.mfaSerial === undefined || options.tokenCode === undefined) return undefined;
  if (typeof state[CODE] === 'string') return state[CODE];
  let code: unknown;
  try {
    code = await options.tokenCode();
  } catch (error) {
    throw callbackError(providerName, `tokenCode() for MFA device ${options.mfaSerial}`, error);
  }
  if (typeof code !== 'string') throw callbackError(providerName, `tokenCode() for MFA device ${options.mfaSerial}`, new TypeError(`it returned ${typeof code}, not a string`));
  state[CODE] = code.trim();
  return state[CODE] as string;
}
