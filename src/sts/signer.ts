import type { Hash, Hmac } from 'node:crypto';
import type { Credentials } from '../credentials.js';

type Data = string | ArrayBuffer | ArrayBufferView;

function toBuffer(data: Data): Buffer | string {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

let nodeCrypto: typeof import('node:crypto') | undefined;

/** SHA-256 / HMAC-SHA-256 in the shape `@smithy/signature-v4` wants, backed by node:crypto (loaded with the signer). */
export class NodeSha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: Data) {
    this.hash = this.create();
  }
  private create(): Hash | Hmac {
    const crypto = nodeCrypto!;
    return this.secret === undefined ? crypto.createHash('sha256') : crypto.createHmac('sha256', toBuffer(this.secret));
  }
  update(data: Data): void {
    this.hash.update(toBuffer(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
  reset(): void {
    this.hash = this.create();
  }
}

export interface UnsignedRequest {
  url: URL;
  headers: Record<string, string>;
  body: string;
}

type SignatureV4Class = typeof import('@smithy/signature-v4').SignatureV4;
let signatureV4: Promise<SignatureV4Class> | undefined;

/** Loaded on first use so importing the package root does not pull in the signer. */
function loadSignatureV4(): Promise<SignatureV4Class> {
  signatureV4 ??= Promise.all([import('@smithy/signature-v4'), import('node:crypto')]).then(([m, crypto]) => {
    nodeCrypto = crypto;
    return m.SignatureV4;
  });
  return signatureV4;
}

type SignerInstance = InstanceType<SignatureV4Class>;
/** The last signer built, reused while the credentials object and region stay the same (it caches signing keys). */
let lastSigner: { credentials: Credentials; region: string; signer: SignerInstance } | undefined;

async function signerFor(credentials: Credentials, region: string): Promise<SignerInstance> {
  if (lastSigner && lastSigner.credentials === credentials && lastSigner.region === region) return lastSigner.signer;
  const SignatureV4 = await loadSignatureV4();
  const signer = new SignatureV4({
    service: 'sts',
    region,
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      ...(credentials.sessionToken ? { sessionToken: credentials.sessionToken } : {}),
    },
    sha256: NodeSha256,
    applyChecksum: false,
  });
  lastSigner = { credentials, region, signer };
  return signer;
}

/** Signs a POST with SigV4 for `sts`; returns the headers to send (adds X-Amz-Date, token, Authorization). */
export async function signRequest(
  req: UnsignedRequest,
  credentials: Credentials,
  signingRegion: string,
  signingDate: Date,
): Promise<Record<string, string>> {
  const signer = await signerFor(credentials, signingRegion);
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: req.url.protocol,
      hostname: req.url.hostname,
      ...(req.url.port ? { port: Number(req.url.port) } : {}),
      path: req.url.pathname,
      query: {},
      headers: req.headers,
      body: req.body,
    },
    { signingDate },
  );
  return signed.headers as Record<string, string>;
}
