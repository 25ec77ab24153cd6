/**
 * Certificate pinning for the FTPS client: trusting a server by the SHA-256 fingerprint of its leaf
 * certificate instead of by a CA. This is how a self-signed or private-CA server (a NAS, an embedded
 * controller, a server known by its IP address) is used safely: the pin says exactly which certificate
 * is the server, so nobody else can pretend to be it, while no CA and no host name is involved.
 *
 * A pin is written `sha256:AB:CD:...` (32 bytes, the form `openssl x509 -fingerprint -sha256` prints).
 * Input is case-insensitive, with or without the `sha256:` prefix and the colons; output is always the
 * canonical upper-case form with colons, which is also what Node's `X509Certificate.fingerprint256` gives.
 */
import { X509Certificate } from 'node:crypto';
import type * as tls from 'node:tls';
import { FtpConfigError } from '../errors.js';

const PREFIX = 'sha256:';

/** `sha256:AB:CD:...` for a colon-separated hex fingerprint as Node reports it (`fingerprint256`). */
export function formatPin(fingerprint256: string): string {
  return `${PREFIX}${fingerprint256.toUpperCase()}`;
}

/** The canonical pin for `text`, or undefined when it is not a SHA-256 fingerprint. */
export function normalizePin(text: string): string | undefined {
  let s = text.trim();
  if (s.toLowerCase().startsWith(PREFIX)) s = s.slice(PREFIX.length);
  const hex = s.replace(/[:\s]/g, '');
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return undefined;
  return formatPin(hex.toUpperCase().match(/../g)!.join(':'));
}

/** Every pin of a setting, canonical. Throws FtpConfigError naming `key` for a malformed one. */
export function parsePins(value: string | readonly string[] | undefined, key = 'tls.pin'): string[] {
  const list = value === undefined ? [] : typeof value === 'string' ? [value] : [...value];
  return list.map((text) => {
    const pin = normalizePin(text);
    if (pin === undefined) {
      throw new FtpConfigError(key, `not a SHA-256 certificate fingerprint: "${text}" (expected sha256: followed by 32 hex bytes, e.g. sha256:AB:CD:...)`);
    }
    return pin;
  });
}

/**
 * The certificate a TLS socket's peer presented (undefined without one). Read through getPeerCertificate():
 * on a client socket, Node's getPeerX509Certificate() takes the leaf out of the peer chain it reads from,
 * so a second call (ours or the caller's) would see no certificate or the issuer's.
 */
export function peerCertificate(socket: tls.TLSSocket): X509Certificate | undefined {
  const raw = socket.getPeerCertificate()?.raw;
  return raw ? new X509Certificate(raw) : undefined;
}
