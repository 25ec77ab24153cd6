/**
 * Server certificates for FTPS: PEM key + chain loaded from files and reloaded without a restart, a
 * self-signed certificate generated once and kept in a state directory (for the embedded default and for
 * tests), and the TLS protocol settings (minimum version, ciphers) with secure defaults.
 *
 * This module owns the *material*; server-tls.ts builds one SecureContext per control connection from it
 * (that is what makes session-reuse enforcement per connection possible, see server-tls.ts). Because a new
 * context is built for every control connection anyway, reloading is simply "the next control connection
 * gets the new files": we stat the files when a context is asked for (a few microseconds) and re-read them
 * when their identity (inode, size, mtime) changed. Connections already established keep their context,
 * which is exactly right: their data connections must resume sessions made with it.
 */
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { generate } from 'selfsigned';
import { FtpConfigError } from '../../errors.js';

export type TlsVersion = 'TLSv1.2' | 'TLSv1.3';

/** SECURITY: TLS 1.0/1.1 are deprecated (RFC 8996); 1.2 is the floor unless the operator says otherwise. */
export const DEFAULT_MIN_TLS_VERSION: TlsVersion = 'TLSv1.2';

export interface TlsProtocolOptions {
  /** Lowest protocol version accepted. Default 'TLSv1.2'. */
  minVersion?: TlsVersion;
  /** Highest protocol version offered. Default: the highest Node supports (TLS 1.3). */
  maxVersion?: TlsVersion;
  /**
   * OpenSSL cipher list for TLS <= 1.2 (and TLS 1.3 suites, by their TLS_ names). Default: Node's default
   * list, which only holds forward-secret AEAD-first suites.
   */
  ciphers?: string;
}

export interface CertificateSource {
  /** PEM file holding the certificate followed by its chain (leaf first). */
  certFile?: string;
  /** PEM file holding the private key. May be the same file as certFile (pure-ftpd style). */
  keyFile?: string;
  /** PEM text instead of files (embedding); not reloaded. */
  cert?: string;
  key?: string;
  /** Passphrase of an encrypted key. */
  passphrase?: string;
  /**
   * Without cert/key: generate a self-signed certificate and keep it in this directory
   * (`ftpkit-cert.pem`, `ftpkit-key.pem`), reused while it is valid for more than a day.
   */
  stateDir?: string;
  /** Names put in a generated certificate (subjectAltName). Default: localhost, 127.0.0.1, ::1, hostname. */
  hostnames?: string[];
}

export interface CertificateStoreOptions extends CertificateSource, TlsProtocolOptions {}

export interface KeyMaterial {
  cert: string;
  key: string;
  /** Increases each time new material is loaded. */
  generation: number;
  /** Where it came from, for logs: a file path, 'inline' or 'self-signed:<dir>'. */
  source: string;
  /** Expiry of the leaf certificate. */
  validTo: Date;
  /** SHA-256 fingerprint of the leaf certificate. */
  fingerprint256: string;
}

export interface CertificateStoreEvents {
  /** New material was loaded after the files changed (or reload() was called). */
  reload: [KeyMaterial];
  /**
   * Changed files could not be used (half-written during a rotation, key does not match): the previous
   * material stays in use and the files are tried again on the next connection.
   */
  error: [Error];
}

interface FileStamp { ino: number; size: number; mtimeMs: number }

function stamp(file: string): FileStamp | undefined {
  try {
    const st = fs.statSync(file);
    return { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs };
  } catch {
    return undefined;
  }
}

function sameStamp(a: FileStamp | undefined, b: FileStamp | undefined): boolean {
  return !!a && !!b && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;
}

/** Validate a PEM pair by building a context from it; returns the leaf's facts. Throws on mismatch. */
function inspect(cert: string, key: string, passphrase: string | undefined): { validTo: Date; fingerprint256: string } {
  // createSecureContext checks that the key matches the certificate ("key values mismatch").
  tls.createSecureContext({ cert, key, passphrase });
  const leaf = new X509Certificate(cert);
  return { validTo: new Date(leaf.validTo), fingerprint256: leaf.fingerprint256 };
}

/**
 * Holds the current key + chain and the protocol settings; hands out fresh SecureContexts.
 * Create with `CertificateStore.open()`.
 */
export class CertificateStore extends EventEmitter<CertificateStoreEvents> {
  readonly protocol: Readonly<Required<Pick<TlsProtocolOptions, 'minVersion'>> & TlsProtocolOptions>;
  private material: KeyMaterial;
  private readonly certFile: string | undefined;
  private readonly keyFile: string | undefined;
  private readonly passphrase: string | undefined;
  private stamps: [FileStamp | undefined, FileStamp | undefined];

  private constructor(init: {
    material: KeyMaterial; certFile?: string; keyFile?: string; passphrase?: string; protocol: TlsProtocolOptions;
  }) {
    super();
    this.material = init.material;
    this.certFile = init.certFile;
    this.keyFile = init.keyFile;
    this.passphrase = init.passphrase;
    this.protocol = { ...init.protocol, minVersion: init.protocol.minVersion ?? DEFAULT_MIN_TLS_VERSION };
    this.stamps = [init.certFile ? stamp(init.certFile) : undefined, init.keyFile ? stamp(init.keyFile) : undefined];
  }

  /** Load (or generate) the certificate. Throws FtpConfigError naming the bad option. */
  static async open(options: CertificateStoreOptions): Promise<CertificateStore> {
    const protocol = validateProtocol(options);
    if (options.cert !== undefined || options.key !== undefined) {
      if (options.cert === undefined || options.key === undefined) {
        throw new FtpConfigError(options.cert === undefined ? 'tls.cert' : 'tls.key', 'cert and key must be given together');
      }
      const facts = wrapConfig('tls.cert', () => inspect(options.cert!, options.key!, options.passphrase));
      return new CertificateStore({
        material: { cert: options.cert, key: options.key, generation: 1, source: 'inline', ...facts },
        passphrase: options.passphrase, protocol,
      });
    }
    if (options.certFile !== undefined || options.keyFile !== undefined) {
      const certFile = options.certFile ?? options.keyFile!;
      const keyFile = options.keyFile ?? options.certFile!;
      const [cert, key] = await Promise.all([
        readPem(certFile, options.certFile !== undefined ? 'tls.certFile' : 'tls.keyFile'),
        readPem(keyFile, options.keyFile !== undefined ? 'tls.keyFile' : 'tls.certFile'),
      ]);
      const facts = wrapConfig('tls.certFile', () => inspect(cert, key, options.passphrase));
      return new CertificateStore({
        material: { cert, key, generation: 1, source: certFile, ...facts },
        certFile, keyFile, passphrase: options.passphrase, protocol,
      });
    }
    if (options.stateDir !== undefined) {
      const pair = await ensureSelfSignedCertificate(options.stateDir, { hostnames: options.hostnames });
      return new CertificateStore({
        material: { cert: pair.cert, key: pair.key, generation: 1, source: `self-signed:${options.stateDir}`, ...inspect(pair.cert, pair.key, undefined) },
        certFile: pair.certFile, keyFile: pair.keyFile, protocol,
      });
    }
    throw new FtpConfigError('tls', 'needs certFile+keyFile, cert+key, or stateDir for a generated self-signed certificate');
  }

  /** The material in use now, after re-reading the files if they changed. */
  current(): KeyMaterial {
    this.checkFiles();
    return this.material;
  }

  /**
   * A new SecureContext from the current material. `extra` adds per-connection settings (server-tls.ts
   * passes a unique sessionIdContext and client-certificate options).
   */
  createSecureContext(extra: tls.SecureContextOptions = {}): tls.SecureContext {
    const m = this.current();
    return tls.createSecureContext({
      cert: m.cert,
      key: m.key,
      passphrase: this.passphrase,
      minVersion: this.protocol.minVersion,
      maxVersion: this.protocol.maxVersion,
      ciphers: this.protocol.ciphers,
      // SECURITY: prefer the server's (secure-first) cipher order over whatever the client lists first.
      honorCipherOrder: true,
      ...extra,
    });
  }

  /** Re-read the files now, even if they look unchanged. Rejects (and keeps the old material) if unusable. */
  async reload(): Promise<KeyMaterial> {
    if (!this.certFile || !this.keyFile) return this.material;
    const [cert, key] = await Promise.all([fsp.readFile(this.certFile, 'utf8'), fsp.readFile(this.keyFile, 'utf8')]);
    this.adopt(cert, key, [stamp(this.certFile), stamp(this.keyFile)]);
    return this.material;
  }

  private checkFiles(): void {
    if (!this.certFile || !this.keyFile) return;
    const now: [FileStamp | undefined, FileStamp | undefined] = [stamp(this.certFile), stamp(this.keyFile)];
    if (sameStamp(now[0], this.stamps[0]) && sameStamp(now[1], this.stamps[1])) return;
    try {
      // Synchronous on purpose: it happens once per change, and the very handshake that noticed the change
      // then uses the new certificate (no window where a rotated certificate is not yet served).
      const cert = fs.readFileSync(this.certFile, 'utf8');
      const key = fs.readFileSync(this.keyFile, 'utf8');
      this.adopt(cert, key, now);
    } catch (err) {
      // Keep serving the previous certificate; the stamps are not updated, so the next connection retries.
      if (this.listenerCount('error') > 0) this.emit('error', err instanceof Error ? err : new Error(String(err)));
    }
  }

  private adopt(cert: string, key: string, stamps: [FileStamp | undefined, FileStamp | undefined]): void {
    const facts = inspect(cert, key, this.passphrase);
    this.material = {
      cert, key, generation: this.material.generation + 1, source: this.material.source, ...facts,
    };
    this.stamps = stamps;
    this.emit('reload', this.material);
  }
}

function validateProtocol(o: TlsProtocolOptions): TlsProtocolOptions {
  const versions: TlsVersion[] = ['TLSv1.2', 'TLSv1.3'];
  if (o.minVersion !== undefined && !versions.includes(o.minVersion)) {
    throw new FtpConfigError('tls.minVersion', `must be one of ${versions.join(', ')} (older versions are insecure, RFC 8996)`);
  }
  if (o.maxVersion !== undefined && !versions.includes(o.maxVersion)) {
    throw new FtpConfigError('tls.maxVersion', `must be one of ${versions.join(', ')}`);
  }
  if (o.minVersion && o.maxVersion && versions.indexOf(o.minVersion) > versions.indexOf(o.maxVersion)) {
    throw new FtpConfigError('tls.maxVersion', `is lower than tls.minVersion (${o.minVersion})`);
  }
  if (o.ciphers !== undefined) {
    wrapConfig('tls.ciphers', () => tls.createSecureContext({ ciphers: o.ciphers }));
  }
  return { minVersion: o.minVersion, maxVersion: o.maxVersion, ciphers: o.ciphers };
}

function wrapConfig<T>(key: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new FtpConfigError(key, (err as Error).message, { cause: err });
  }
}

async function readPem(file: string, key: string): Promise<string> {
  try {
    return await fsp.readFile(file, 'utf8');
  } catch (err) {
    throw new FtpConfigError(key, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Self-signed certificate kept in a state directory
// ---------------------------------------------------------------------------------------------------------

export const SELF_SIGNED_CERT_FILE = 'ftpkit-cert.pem';
export const SELF_SIGNED_KEY_FILE = 'ftpkit-key.pem';

export interface SelfSignedOptions {
  hostnames?: string[];
  /** Validity in days. Default 825 (the longest that browsers/TLS stacks accept for a leaf). */
  days?: number;
}

export interface SelfSignedPair {
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
  /** True when it was generated now, false when an existing valid one was reused. */
  generated: boolean;
}

function defaultHostnames(): string[] {
  return [...new Set(['localhost', '127.0.0.1', '::1', os.hostname()].filter(Boolean))];
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * Return the self-signed certificate in `dir`, generating it when absent, unreadable, mismatched or
 * expiring within a day. Generation uses the `selfsigned` package (ECDSA P-256, SHA-256), never
 * hand-written ASN.1. The key file is written with mode 0600.
 */
export async function ensureSelfSignedCertificate(dir: string, options: SelfSignedOptions = {}): Promise<SelfSignedPair> {
  const certFile = path.join(dir, SELF_SIGNED_CERT_FILE);
  const keyFile = path.join(dir, SELF_SIGNED_KEY_FILE);
  try {
    const [cert, key] = await Promise.all([fsp.readFile(certFile, 'utf8'), fsp.readFile(keyFile, 'utf8')]);
    const { validTo } = inspect(cert, key, undefined);
    if (validTo.getTime() - Date.now() > 24 * 3600 * 1000) return { cert, key, certFile, keyFile, generated: false };
  } catch {
    // absent or unusable: generate below
  }
  const names = options.hostnames?.length ? options.hostnames : defaultHostnames();
  const notBefore = new Date(Date.now() - 60_000); // tolerate small clock differences between peers
  const notAfter = new Date(notBefore.getTime() + (options.days ?? 825) * 24 * 3600 * 1000);
  const pems = await generate([{ name: 'commonName', value: names[0] }, { name: 'organizationName', value: 'ftpkit self-signed' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: notBefore,
    notAfterDate: notAfter,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: names.map((n) => (IPV4.test(n) || n.includes(':') ? { type: 7 as const, ip: n } : { type: 2 as const, value: n })),
      },
    ],
  });
  const nl = (pem: string): string => (pem.endsWith('\n') ? pem : `${pem}\n`);
  const cert = nl(pems.cert);
  const key = nl(pems.private);
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  // Write to temporary names and rename, so a concurrently starting server never reads half a file.
  const tmpKey = `${keyFile}.${process.pid}.tmp`;
  const tmpCert = `${certFile}.${process.pid}.tmp`;
  await fsp.writeFile(tmpKey, key, { mode: 0o600 });
  await fsp.writeFile(tmpCert, cert, { mode: 0o644 });
  await fsp.rename(tmpKey, keyFile);
  await fsp.rename(tmpCert, certFile);
  return { cert, key, certFile, keyFile, generated: true };
}
