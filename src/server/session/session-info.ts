/**
 * A read-only snapshot of one session, for host applications (status pages, metrics): FtpServer.sessions()
 * returns one per open session. Snapshots are plain frozen objects: reading them changes nothing, and they
 * do not follow the session afterwards.
 */
import type { ConnectionFacts } from '../commands/contract.js';
import type { RunningTransfer } from '../transfer.js';
import type { SessionState } from './state.js';

/** How the session is protected (RFC 4217). */
export interface SessionTlsInfo {
  /** 'protected' while commands travel over TLS; 'cleared-by-ccc' after CCC (RFC 4217 s6). */
  readonly control: 'cleartext' | 'protected' | 'cleared-by-ccc';
  /** The session came in on the implicit-FTPS port. */
  readonly implicit: boolean;
  /** TLS version and cipher of the control connection, once it had TLS. */
  readonly protocol?: string;
  readonly cipher?: string;
  /** PROT level for data connections (RFC 4217 s9). */
  readonly prot: 'C' | 'P';
}

/** The transfer a session runs now. */
export interface SessionTransferInfo {
  /** The command that started it: RETR, STOR, STOU, APPE, LIST, NLST or MLSD. */
  readonly command: string;
  readonly direction: 'download' | 'upload' | 'list';
  /** Virtual path of the file (or listed directory). */
  readonly path: string;
  /** Bytes moved over the data connection so far. */
  readonly bytes: number;
  /** REST offset it started at, 0 otherwise. */
  readonly offset: number;
  readonly dataMode: 'passive' | 'active';
  readonly startedAt: Date;
  /** Downloads: the whole file's size (the transfer ends at size - offset bytes); absent when not known. */
  readonly size?: number;
}

export interface SessionInfo {
  readonly id: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** When the control connection was accepted. */
  readonly startedAt: Date;
  /** The logged-in user's name; undefined before login. */
  readonly user: string | undefined;
  readonly tls: SessionTlsInfo;
  /** The running transfer, if any. */
  readonly transfer: SessionTransferInfo | undefined;
}

export function tlsInfo(state: SessionState): SessionTlsInfo {
  const { control, implicit, prot } = state.tls;
  const info = control?.info;
  if (!control || !info) return Object.freeze({ control: 'cleartext', implicit, prot });
  return Object.freeze({
    control: control.clearedByCcc ? 'cleared-by-ccc' : 'protected', implicit, prot,
    protocol: info.protocol ?? undefined, cipher: info.cipher,
  });
}

export function sessionInfo(
  connection: ConnectionFacts, startedAt: number, state: SessionState,
  transfer: { running: RunningTransfer; command: string } | undefined,
): SessionInfo {
  const t = transfer?.running;
  return Object.freeze({
    id: connection.sessionId,
    remoteAddress: connection.remoteAddress,
    remotePort: connection.remotePort,
    localAddress: connection.localAddress,
    localPort: connection.localPort,
    startedAt: new Date(startedAt),
    user: state.user?.name,
    tls: tlsInfo(state),
    transfer: t && Object.freeze({
      command: transfer.command, direction: t.direction, path: t.path, bytes: t.bytes, offset: t.offset,
      dataMode: t.dataMode, startedAt: new Date(t.startedAt), ...(t.size !== undefined ? { size: t.size } : {}),
    }),
  });
}
