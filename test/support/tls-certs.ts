/**
 * Test PKI for the FTPS tests: a private CA, a server certificate for localhost/127.0.0.1/::1 signed by
 * it, a client certificate, plus odd certificates (self-signed, expired, wrong host). Generated with the
 * `selfsigned` package (EC P-256, fast) into a temporary directory that the test removes.
 */
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { generate } from 'selfsigned';
import { tempDir } from './temp-dir.js';

export interface PemPair {
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
  /** cert + key in one file (pure-ftpd's -2 FILE, vsftpd rsa_cert_file with the key inside). */
  bundleFile: string;
}

export interface TestPki {
  dir: string;
  ca: PemPair;
  /** Signed by ca, valid for localhost, 127.0.0.1, ::1. */
  server: PemPair;
  /** Signed by ca, for client-certificate tests. */
  client: PemPair;
  /** A second server certificate signed by ca (certificate reload tests). */
  server2: PemPair;
  /** Self-signed, valid for localhost. */
  selfSigned: PemPair;
  /** Signed by ca, valid only for other.invalid. */
  wrongHost: PemPair;
  /** Signed by ca, expired yesterday. */
  expired: PemPair;
  cleanup(): Promise<void>;
}

const DAY = 24 * 3600 * 1000;

async function write(dir: string, name: string, certText: string, keyText: string): Promise<PemPair> {
  // selfsigned's PEM has no final newline; concatenating it as is would glue the END and BEGIN lines.
  const cert = certText.endsWith('\n') ? certText : `${certText}\n`;
  const key = keyText.endsWith('\n') ? keyText : `${keyText}\n`;
  const certFile = path.join(dir, `${name}-cert.pem`);
  const keyFile = path.join(dir, `${name}-key.pem`);
  const bundleFile = path.join(dir, `${name}-bundle.pem`);
  await fsp.writeFile(certFile, cert);
  await fsp.writeFile(keyFile, key, { mode: 0o600 });
  await fsp.writeFile(bundleFile, cert + key, { mode: 0o600 });
  return { cert, key, certFile, keyFile, bundleFile };
}

interface LeafOptions {
  cn: string;
  names: string[];
  ca?: { cert: string; key: string };
  notBefore?: Date;
  notAfter?: Date;
  client?: boolean;
  isCa?: boolean;
}

async function leaf(o: LeafOptions): Promise<{ cert: string; key: string }> {
  const notBefore = o.notBefore ?? new Date(Date.now() - DAY);
  const pems = await generate([{ name: 'commonName', value: o.cn }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: notBefore,
    notAfterDate: o.notAfter ?? new Date(notBefore.getTime() + 30 * DAY),
    ca: o.ca,
    extensions: o.isCa
      ? [
        { name: 'basicConstraints', cA: true, critical: true },
        { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
      ]
      : [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
        { name: 'extKeyUsage', serverAuth: !o.client, clientAuth: !!o.client },
        {
          name: 'subjectAltName',
          altNames: o.names.map((n) => (/^[\d.]+$/.test(n) || n.includes(':') ? { type: 7 as const, ip: n } : { type: 2 as const, value: n })),
        },
      ],
  });
  return { cert: pems.cert, key: pems.private };
}

/** Build the PKI in a fresh temporary directory. Call cleanup() (t.after) when done. */
export async function makeTestPki(): Promise<TestPki> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'ftpkit-pki-'));
  const local = ['localhost', '127.0.0.1', '::1'];
  const caPems = await leaf({ cn: 'ftpkit test CA', names: [], isCa: true, notAfter: new Date(Date.now() + 60 * DAY) });
  const ca = await write(dir, 'ca', caPems.cert, caPems.key);
  const signer = { cert: ca.cert, key: ca.key };
  const [server, server2, client, selfSigned, wrongHost, expired] = await Promise.all([
    leaf({ cn: 'localhost', names: local, ca: signer }),
    leaf({ cn: 'localhost', names: local, ca: signer }),
    leaf({ cn: 'ftpkit test client', names: [], ca: signer, client: true }),
    leaf({ cn: 'localhost', names: local }),
    leaf({ cn: 'other.invalid', names: ['other.invalid'], ca: signer }),
    leaf({ cn: 'localhost', names: local, ca: signer, notBefore: new Date(Date.now() - 30 * DAY), notAfter: new Date(Date.now() - DAY) }),
  ]);
  return {
    dir,
    ca,
    server: await write(dir, 'server', server.cert, server.key),
    server2: await write(dir, 'server2', server2.cert, server2.key),
    client: await write(dir, 'client', client.cert, client.key),
    selfSigned: await write(dir, 'selfsigned', selfSigned.cert, selfSigned.key),
    wrongHost: await write(dir, 'wronghost', wrongHost.cert, wrongHost.key),
    expired: await write(dir, 'expired', expired.cert, expired.key),
    cleanup: () => fsp.rm(dir, { recursive: true, force: true }),
  };
}

/** A pair's PEM text in cert.pem and key.pem of a fresh temp folder (removed after the test), for tests that rewrite them. */
export async function pemFilesToRotate(t: { after: (fn: () => unknown) => void }, pair: { cert: string; key: string }, prefix: string): Promise<{ certFile: string; keyFile: string }> {
  const dir = await tempDir(t, prefix);
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  await fsp.writeFile(certFile, pair.cert);
  await fsp.writeFile(keyFile, pair.key);
  return { certFile, keyFile };
}
