/**
 * Everything the protocol remembers about one FTP session, in one typed record, with its one reset path.
 *
 * Owns: every field a command may read or change (login phase, user, working directory, the transfer
 * parameters TYPE/MODE/STRU, a pending REST offset or RNFR path, EPSV ALL, the MLST facts, the HASH
 * algorithm, the FTPS state, the failed logins of this connection) and what REIN resets. A new protocol
 * feature (MODE Z/B, quotas) adds its field here and says here whether REIN keeps it.
 *
 * What is NOT here: the control socket and its input (session/control-channel.ts), the prepared data
 * connection (session/data-slot.ts), a running transfer (transfer.ts) and the session's timers
 * (session/session.ts). Those are connection machinery, not protocol state.
 */
import { DEFAULT_DEFLATE_LEVEL } from '../../protocol/codecs/mode-z.js';
import { DEFAULT_MLST_FACTS } from '../../protocol/listing-format.js';
import type { MlstFact } from '../../protocol/listing-format.js';
import type { AuthenticatedUser } from '../auth/types.js';
import type { ControlTls } from '../tls/server-tls.js';

/** USER/PASS progress (RFC 959 s4.1.1): new -> need-password (after USER) -> logged-in (after PASS). */
export type LoginPhase = 'new' | 'need-password' | 'logged-in';
/** TYPE (RFC 959 s3.1.1): A is ASCII with non-print format (the default), I is image (also "L 8"). */
export type TransferType = 'A' | 'I';
/**
 * MODE (RFC 959 s3.4): S stream (the default), B block (s3.4.2), Z deflate (draft-preston-ftpext-deflate;
 * server/transfer-modes.ts). C (s3.4.3) is not implemented (504).
 */
export type TransferMode = 'S' | 'B' | 'Z';
/** STRU (RFC 959 s3.1.2): only file structure is implemented. */
export type FileStructure = 'F';
/** PROT (RFC 4217 s9): C = clear data connections, P = private (TLS). */
export type ProtectionLevel = 'C' | 'P';
/** HASH algorithms (draft-bryan-ftpext-hash-02 s3), spelled as the draft does. */
export type HashAlgorithm = 'SHA-1' | 'SHA-256' | 'SHA-512' | 'MD5';

/** The draft's recommended default (draft-bryan-ftpext-hash-02 s3.2). */
export const DEFAULT_HASH_ALGORITHM: HashAlgorithm = 'SHA-256';

/** FTPS state of the session (RFC 4217). */
export interface TlsState {
  /**
   * The control connection's TLS machinery (its own SecureContext and session cache, tls/server-tls.ts),
   * from the first AUTH TLS or from the implicit-FTPS accept on. Data connections (PROT P) resume its
   * session. REIN keeps it: the TLS layer cannot be taken off by REIN (RFC 4217 s4 makes only CCC do that).
   */
  control: ControlTls | undefined;
  /** Commands arrive over TLS now (false before AUTH TLS, and again after CCC). REIN keeps it. */
  secure: boolean;
  /** The connection came in on the implicit-FTPS port: TLS from the first byte. REIN keeps it. */
  implicit: boolean;
  /** PBSZ was sent (RFC 4217 s8); PROT needs it. REIN clears it (back to the connection's defaults). */
  pbsz: boolean;
  /** PROT level for data connections (RFC 4217 s9). REIN returns it to the connection's default. */
  prot: ProtectionLevel;
  /**
   * The name the client gave to the last USER, for the TLS policy (a per-user requirement still applies
   * after PASS cleared `pendingUser`). REIN clears it.
   */
  loginName: string | undefined;
}

export class SessionState {
  /** Where the login stands (RFC 959 s4.1.1). */
  phase: LoginPhase = 'new';
  /** The name given by USER, waiting for PASS; cleared by PASS, whatever its outcome. */
  pendingUser: string | undefined;
  /** The logged-in user (with its storage and permissions), once PASS succeeded. */
  user: AuthenticatedUser | undefined;
  /** Virtual working directory (always normalized, never outside the user's root). */
  cwd = '/';
  /** TYPE; RFC 959 s3.1.1 makes ASCII the default. */
  type: TransferType = 'A';
  /** MODE; RFC 959 s3.4 makes stream the default. */
  mode: TransferMode = 'S';
  /** The deflate level of MODE Z downloads, chosen with OPTS MODE Z LEVEL n (1-9). REIN resets it. */
  deflateLevel = DEFAULT_DEFLATE_LEVEL;
  /** STRU; RFC 959 s3.1.2 makes file the default. */
  structure: FileStructure = 'F';
  /**
   * REST offset for the next RETR/STOR (RFC 3659 s5). The dispatcher clears it after a transfer command;
   * other commands in between keep it (real clients send EPSV or TYPE between REST and RETR).
   */
  restOffset = 0;
  /**
   * Bytes announced by ALLO (RFC 959 s4.1.3) for the next upload: one that cannot fit the quota or the
   * upload size limit is refused before its 150 (server/quota/upload-guard.ts). Cleared like restOffset.
   */
  allocation: number | undefined;
  /** Set by RNFR for the RNTO that must come right after it (RFC 959 s4.1.3); cleared by any other command. */
  renameFrom: string | undefined;
  /** After EPSV ALL only EPSV may set up data connections (RFC 2428 s4). */
  epsvAll = false;
  /**
   * Facts MLST and MLSD send, chosen with OPTS MLST (RFC 3659 s7.9), which puts a new set here. Read-only:
   * until then every session shares the default set (no set per idle session).
   */
  mlstFacts: ReadonlySet<MlstFact> = DEFAULT_MLST_FACTS;
  /** Algorithm HASH uses, chosen with OPTS HASH (draft-bryan-ftpext-hash-02 s3.2). */
  hashAlgorithm: HashAlgorithm = DEFAULT_HASH_ALGORITHM;
  /** FTPS state; see TlsState for what REIN keeps. */
  readonly tls: TlsState = { control: undefined, secure: false, implicit: false, pbsz: false, prot: 'C', loginName: undefined };
  /**
   * Failed PASS attempts on this connection. SECURITY: REIN keeps it. REIN is allowed before login, so a
   * counter it reset would give USER/PASS/REIN loops unlimited password guesses per connection.
   */
  loginFailures = 0;
  /**
   * PASV/EPSV/PORT/EPRT since the last transfer command (limits.maxDataSetupsWithoutTransfer,
   * commands/data-setup.ts); the dispatcher clears it after a transfer command. SECURITY: REIN keeps it,
   * like loginFailures, so that REIN does not reset the bound.
   */
  dataSetupsWithoutTransfer = 0;

  /**
   * REIN (RFC 959 s4.1.1): "flushing all I/O and account information ... all parameters to the default
   * settings", as if the client had just connected, on the same control connection. Kept: the failed-login
   * count (see loginFailures) and the TLS layer of the control connection (see TlsState); an implicit-FTPS
   * connection returns to its own defaults, PBSZ done and PROT P, because its clients never send them.
   */
  reset(): void {
    this.phase = 'new';
    this.pendingUser = undefined;
    this.user = undefined;
    this.cwd = '/';
    this.type = 'A';
    this.mode = 'S';
    this.deflateLevel = DEFAULT_DEFLATE_LEVEL;
    this.structure = 'F';
    this.restOffset = 0;
    this.allocation = undefined;
    this.renameFrom = undefined;
    this.epsvAll = false;
    this.mlstFacts = DEFAULT_MLST_FACTS;
    this.hashAlgorithm = DEFAULT_HASH_ALGORITHM;
    this.tls.pbsz = this.tls.implicit;
    this.tls.prot = this.tls.implicit ? 'P' : 'C';
    this.tls.loginName = undefined;
  }
}
