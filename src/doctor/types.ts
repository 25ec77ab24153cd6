/**
 * The doctor's data model: what a probe observed (outcome + evidence + time), what the doctor concluded
 * (causes in the user's words), and what it recommends (a ClientSettings object the client accepts as is).
 * Plain JSON throughout: `ftpkit doctor --json` prints a `Finding`.
 */
import type { ClientSettings } from '../client/options.js';
import type { NetworkFailure, TlsFailure } from '../errors.js';

/** How an attempt ended, as far as the sockets and replies can tell. */
export type OutcomeKind =
  | 'ok'
  | 'refused'       // TCP reset on connect: fast, something actively rejects
  | 'timeout'       // nothing answered: packets silently dropped, or a peer that never replies
  | 'reset'         // established connection reset
  | 'closed'        // the peer closed early
  | 'unreachable'   // ICMP host/network unreachable
  | 'not-found'     // DNS
  | 'reply'         // the server refused a command (replyCode)
  | 'tls'           // TLS handshake / certificate / session reuse failure
  | 'protocol'      // unusable reply (bogus PASV numbers...)
  | 'skipped'       // not run (budget exhausted, not applicable)
  | 'other';

/** A client network failure as a probe outcome: a stalled transfer reads as dropped data (timeout). */
export function outcomeKindOf(failure: NetworkFailure): OutcomeKind {
  if (failure === 'permission' || failure === 'address-in-use') return 'other';
  return failure === 'stalled' ? 'timeout' : failure;
}

export interface Outcome {
  kind: OutcomeKind;
  /** Milliseconds the attempt took until it succeeded or failed. */
  ms: number;
  /** Which connection failed. */
  connection?: 'control' | 'data';
  /** Where in the exchange it failed. */
  phase?: string;
  /** host:port the failing connection went to / listened on. */
  endpoint?: string;
  replyCode?: number;
  replyText?: string;
  /** The command a control-connection timeout was waiting on ("EPSV"), when known. */
  command?: string;
  /** kind 'tls': what went wrong in TLS (FtpTlsError.reason), when the client classified it. */
  tlsFailure?: TlsFailure;
  /** Short human text of the error. */
  message?: string;
  /**
   * The cell's data connection had opened (connected, or accepted from the server) before this failure:
   * the path let it through, so a later silence is the server stalling, not a block on the way.
   */
  dataOpened?: boolean;
}

/** One evidence line: a transcript line or a socket observation, with time since the step started. */
export interface EvidenceLine {
  atMs: number;
  text: string;
}

export type StepId = 'resolve' | 'tcp' | 'tcp-alt' | 'greeting' | 'implicit-tls' | 'port-990' | 'features' | 'auth-tls' | 'certificate' | 'login' | 'path';

export interface StepResult {
  id: StepId;
  title: string;
  outcome: Outcome;
  /** What this step learned, in words ("port 21 answers with 220 (vsFTPd 3.0.3)"). */
  summary: string;
  evidence: EvidenceLine[];
  /**
   * The step found something absent rather than broken (a server that offers no FTPS while cleartext
   * works): reported as "no", not as a failure.
   */
  absent?: boolean;
  /** When the step ran, in ms since the doctor started (the report's timeline). */
  at?: ProbeTiming;
}

/** Start and end of a step or cell, in ms since the doctor started. */
export interface ProbeTiming {
  startMs: number;
  endMs: number;
}

/** One cell of the data-connection matrix. */
export interface DataProbeSpec {
  /** Stable id, e.g. "epsv", "pasv-reply", "pasv-control", "eprt-range", "port-public+tls". */
  id: string;
  mode: 'passive' | 'active';
  command: 'epsv' | 'pasv' | 'eprt' | 'port';
  /** PASV: use the reply's address or the control host. */
  addressPolicy?: 'reply' | 'control';
  /** Active: listen in this port range. */
  portRange?: { min: number; max: number };
  /** Active: advertise this address instead of the local one. */
  advertiseAddress?: string;
  tls: boolean;
  /** TLS cells: cap the version (TLS 1.2 session reuse works differently from 1.3's tickets). */
  tlsVersion?: 'TLSv1.2';
  /** TLS cells: CCC after login (RFC 4217 s6) so an FTP ALG can read PASV again; data stays protected. */
  ccc?: boolean;
  /** Human label ("PASV, address from the reply, TLS"). */
  label: string;
}

export type TransferCheck = 'ok' | 'failed' | 'readonly' | 'skipped';

export interface DataProbeResult {
  spec: DataProbeSpec;
  /** Whether the data connection got through (a listing arrived). */
  outcome: Outcome;
  /** PASV: the address and port the server advertised (as this client received it). */
  advertised?: { host?: string; port: number };
  /** Active: the argument of the PORT/EPRT we sent last (the address and port we advertised). */
  offered?: string;
  /** Verbs that got a reply on this cell's control connection (from the client's 'reply' events). */
  answered?: string[];
  /**
   * A TLS cell run with the server's certificate pinned because no CA vouched for it (`Finding.certificate`):
   * encrypted and tied to that certificate, but the server's identity was not verified.
   */
  unverified?: boolean;
  /** Upload + download + delete of a small file, where writable. */
  transfer?: { upload: TransferCheck; download: TransferCheck; delete: TransferCheck; note?: string };
  evidence: EvidenceLine[];
  /** When the cell ran (its last attempt), in ms since the doctor started (the report's timeline). */
  at?: ProbeTiming;
  /** Which of the pool's sessions ran it (session-pool.ts): cells with the same number shared a login. */
  session?: number;
}

/** Stable cause codes (the words are in `Cause.title`/`detail`). */
export type CauseCode =
  | 'dns-failure'
  | 'control-port-dropped'
  | 'control-port-refused'
  | 'control-unreachable'
  | 'address-family-broken'
  | 'implicit-tls-port'
  | 'no-greeting'
  | 'greeting-refused'
  | 'implicit-on-990'
  | 'explicit-tls-mismatch'
  | 'tls-required'
  | 'tls-certificate'
  | 'login-failed'
  | 'server-private-pasv-address'
  | 'pasv-address-unusable'
  | 'pasv-other-host'
  | 'alg-blind-under-tls'
  | 'tls-data-blocked'
  | 'tls13-resumption'
  | 'server-passive-ports-dropped'
  | 'server-passive-ports-refused'
  | 'epsv-unsupported'
  | 'epsv-unusable'
  | 'command-unanswered'
  | 'pasv-unsupported'
  | 'client-active-blocked'
  | 'client-active-port-range'
  | 'client-nat-port-refused'
  | 'client-nat-no-forward'
  | 'active-refused-by-server'
  | 'path-unusable'
  | 'nothing-works';

export interface Cause {
  code: CauseCode;
  /** Who can fix it. */
  side: 'client' | 'server' | 'network' | 'none';
  /** One sentence in the user's words. */
  title: string;
  /** Why we think so: the observations, with their times. */
  detail: string;
  /** What the server's admin should change (when it is on the server side). */
  adminFix?: string;
  /** What the user can do on their side. */
  userFix?: string;
}

/**
 * Something worth knowing that is not a connection problem: the server's session limit, a folder you may
 * only read. Shown under "Notes", never under "Diagnosis".
 */
export interface Note {
  code: 'session-limit' | 'readonly';
  title: string;
  detail: string;
}

/** The logins the diagnosis made and the sessions it had open at once (session-pool.ts). */
export interface SessionStats {
  logins: number;
  /** Most sessions logged in at the same time. */
  peak: number;
  /** The server refused one more ("too many connections"): the number it allowed, and its words. */
  limit?: number;
  limitReply?: string;
}

export interface Recommendation {
  /** The ClientSettings to use: `ftpkit get|put|ls|mirror --settings f.json` reads `recommended.settings`. */
  settings: ClientSettings;
  /** The matrix cell these settings reproduce (undefined when nothing worked). */
  probeId?: string;
  /** Why these settings (one line). */
  reason: string;
  /** Equivalent settings of other tools (a WinSCP script's `open` line, basic-ftp code, ftpkit flags). */
  equivalents: { curl: string; lftp: string; filezilla: string; winscp: string; basicFtp: string; ftpkit: string };
}

/** One certificate of the chain the server presented. */
export interface CertificateInfo {
  subject: string;
  issuer: string;
  /** ISO dates. */
  validFrom: string;
  validTo: string;
  /** `sha256:AB:CD:...`, the form tls.pin and --pin take. */
  fingerprint: string;
  selfSigned: boolean;
  /** Base64 SHA-256 of the public key (SubjectPublicKeyInfo, RFC 7469 s2.4): curl --pinnedpubkey sha256//... */
  spkiSha256?: string;
}

/** The server's certificate was not trusted (src/doctor/certificate.ts). */
export interface CertificateFinding {
  /** Why verification failed (the client's message). */
  error: string;
  /** The verification error's code with the user's settings (DEPTH_ZERO_SELF_SIGNED_CERT, ERR_TLS_CERT_ALTNAME_INVALID...). */
  reason?: string;
  /** The chain as presented, leaf first (empty when it could not be read). */
  chain: CertificateInfo[];
  /** The rest of the diagnosis ran with the leaf pinned (its TLS cells are `unverified`). */
  pinned: boolean;
}

export interface Finding {
  /** ftpkit-doctor finding format version. */
  version: 1;
  target: {
    host: string; port: number; user: string; secure: 'none' | 'explicit' | 'implicit'; addresses: string[];
    /** The address the control connection reached, and ours on it (the values the fixes print). */
    controlAddress?: string;
    localAddress?: string;
  };
  startedAt: string;
  elapsedMs: number;
  budgetMs: number;
  steps: StepResult[];
  matrix: DataProbeResult[];
  /** Probe ids that worked, best first. */
  works: string[];
  causes: Cause[];
  recommended: Recommendation | undefined;
  /** Present when the server's certificate was not trusted: the chain, and whether the probes pinned it. */
  certificate?: CertificateFinding;
  /** Facts that are not problems (the server's session limit, read-only access). */
  notes?: Note[];
  /** Logins made and sessions open at once. */
  sessions?: SessionStats;
  /** True when the budget ran out before every probe finished. */
  truncated: boolean;
}
