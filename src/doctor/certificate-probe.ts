/**
 * The doctor's certificate finding: when the server's TLS certificate is not trusted (self-signed, a
 * private CA, a name that does not match), that is a finding, not the end of the diagnosis. We read the
 * chain the server presents (subject, issuer, validity, SHA-256 fingerprint of each certificate), and the
 * rest of the diagnosis runs with the leaf's fingerprint pinned (tls.pin, src/net/tls-pin.ts): every TLS
 * cell is then "unverified" (no CA vouched for the server) but still tied to that one certificate, and the
 * recommended settings are exactly what was tested. `--insecure` is never recommended.
 *
 * The chain is read below the FTP client, like the greeting probe (control-probe.ts): connect, AUTH TLS
 * for explicit FTPS (RFC 4217 s4) or TLS on connect for implicit, a handshake without verification, and
 * the certificates the server sent. Nothing else is sent on that connection (no user name, no password).
 */
import { X509Certificate, createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import { connectTcp, formatEndpoint } from '../net/connect.js';
import { formatPin } from '../net/tls-pin.js';
import { ClientTls } from '../net/tls-client.js';
import type { TlsSettings } from '../client/options.js';
import { readReply } from './control-probe.js';
import type { CertificateInfo, EvidenceLine } from './types.js';

export interface CertificateProbeOptions {
  host: string;
  port: number;
  secure: 'explicit' | 'implicit';
  /** The user's TLS settings: their CA (and servername) decide what "trusted" means. */
  tls: TlsSettings;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface CertificateChainProbe {
  chain: CertificateInfo[];
  /** Why verification fails with the user's settings (OpenSSL/Node code), undefined when it passes. */
  reason?: string;
  evidence: EvidenceLine[];
  /** Why the chain could not be read. */
  error?: string;
}

function describe(cert: X509Certificate): CertificateInfo {
  return {
    subject: cert.subject.replace(/\n/g, ', '),
    issuer: cert.issuer.replace(/\n/g, ', '),
    validFrom: new Date(cert.validFrom).toISOString(),
    validTo: new Date(cert.validTo).toISOString(),
    fingerprint: formatPin(cert.fingerprint256),
    selfSigned: cert.subject === cert.issuer && cert.checkIssued(cert),
    // What curl --pinnedpubkey sha256//... compares: the SHA-256 of the DER SubjectPublicKeyInfo (RFC 7469 s2.4).
    spkiSha256: createHash('sha256').update(cert.publicKey.export({ type: 'spki', format: 'der' })).digest('base64'),
  };
}

/** The chain as the server sent it, leaf first (Node links it through issuerCertificate). */
function chainOf(socket: tls.TLSSocket): CertificateInfo[] {
  const out: CertificateInfo[] = [];
  const seen = new Set<string>();
  let c: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  while (c?.raw && !seen.has(c.fingerprint256) && out.length < 10) {
    seen.add(c.fingerprint256);
    out.push(describe(new X509Certificate(c.raw)));
    c = c.issuerCertificate;
  }
  return out;
}

/**
 * Read the certificate chain the server presents (explicit: after AUTH TLS; implicit: on connect), with the
 * user's settings but without rejecting: the client's TLS layer (src/net/tls-client.ts) then reports why
 * verification fails (`authorizationError`) instead of failing.
 */
export async function probeCertificateChain(o: CertificateProbeOptions): Promise<CertificateChainProbe> {
  const t0 = performance.now();
  const at = () => performance.now() - t0;
  const evidence: EvidenceLine[] = [{ atMs: 0, text: `reading the certificate chain of ${formatEndpoint(o.host, o.port)} (${o.secure} TLS)` }];
  let socket: Socket | undefined;
  let secure: tls.TLSSocket | undefined;
  const onAbort = () => { secure?.destroy(); socket?.destroy(); };
  o.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const { pin: _pin, ...settings } = o.tls;
    const clientTls = await ClientTls.create({ host: o.host, settings: { ...settings, rejectUnauthorized: false }, handshakeTimeoutMs: o.timeoutMs });
    socket = await connectTcp({ host: o.host, port: o.port, timeoutMs: o.timeoutMs, connection: 'control', ...(o.signal ? { signal: o.signal } : {}) });
    if (o.secure === 'explicit') {
      const greeting = await readReply(socket, o.timeoutMs);
      if ('error' in greeting) return { chain: [], evidence, error: `no greeting: ${greeting.error.message}` };
      socket.write('AUTH TLS\r\n');
      const auth = await readReply(socket, o.timeoutMs);
      if ('error' in auth || !auth.lines.at(-1)!.startsWith('234')) {
        return { chain: [], evidence, error: `AUTH TLS: ${'error' in auth ? auth.error.message : auth.lines.at(-1)}` };
      }
    }
    secure = await clientTls.upgradeControl(socket);
    const chain = chainOf(secure);
    const reason = secure.authorized ? undefined : String(secure.authorizationError ?? 'not trusted');
    for (const c of chain) evidence.push({ atMs: at(), text: `certificate ${c.subject}, issued by ${c.issuer}, valid ${c.validFrom} to ${c.validTo}, ${c.fingerprint}` });
    evidence.push({ atMs: at(), text: reason ? `verification with your settings fails: ${reason}` : 'verification with your settings passes' });
    return { chain, evidence, ...(reason ? { reason } : {}) };
  } catch (err) {
    return { chain: [], evidence, error: (err as Error).message };
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    secure?.destroy();
    socket?.destroy();
  }
}
