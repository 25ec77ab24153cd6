/**
 * Events of FtpClient (public API). Library code never prints; everything it does is an event.
 *
 * Two kinds:
 * - structured events for programs (the doctor, metrics, tests): `command`, `reply`, `dataChannel`,
 *   `fallback`, `dataTls`. Each is also published on a node:diagnostics_channel channel (diagnostics.ts),
 *   which costs nothing while nobody subscribes.
 * - `transcript`, the "Command:/Response:/Status:" log users know from FileZilla, for people. It is a
 *   subscriber: its lines are made from the structured events (transcript.ts), plus status lines for
 *   decisions that are only words. Nobody should parse them back: the structured events carry the facts.
 * - `progress` for progress bars.
 * docs/client.md ("Events") describes them.
 */
import type { PasvAddressPolicyName } from '../protocol/address-policy.js';

export interface TranscriptEvent {
  /** 'command': sent by us (PASS masked); 'response': received; 'status': a decision we made and why. */
  kind: 'command' | 'response' | 'status';
  text: string;
  /** Which connection it concerns ('data' for data-connection decisions). */
  connection: 'control' | 'data';
  time: Date;
}

export interface ProgressEvent {
  direction: 'download' | 'upload' | 'list';
  /** Remote path. */
  path: string;
  /** Bytes transferred so far in this transfer (not counting a resumed offset). */
  bytes: number;
  /** Offset the transfer started at (REST), 0 otherwise. */
  startOffset: number;
  /** Total size of the file when known (including the offset). */
  total?: number;
  /** Bytes per second, smoothed. */
  bytesPerSecond: number;
  /** Seconds left when total is known. */
  etaSeconds?: number;
  done: boolean;
}

/** A command line written on the control connection. */
export interface CommandEvent {
  /** The line without CRLF; the argument of PASS and ACCT is masked ("PASS ****"). */
  command: string;
  time: Date;
}

/** A reply read on the control connection. */
export interface ReplyEvent {
  /** Three-digit reply code (RFC 959 s4.2). */
  code: number;
  /** The text without the code prefixes; lines joined with "\n". */
  text: string;
  /** The lines as received. */
  lines: string[];
  /**
   * The command this reply answers (masked like CommandEvent.command): replies come in the order of the
   * commands (RFC 959 s4.2), a 1xx preliminary reply and then the final one. Undefined for the greeting and
   * for a reply no command asked for (a 421 before the server closes an idle session).
   */
  command: string | undefined;
  time: Date;
}

export type Endpoint = { host: string; port: number };

/** Passive: which command is tried, and why (before it is sent). Not published after a fallback. */
export interface DataCommandChosenEvent {
  step: 'command';
  mode: 'passive';
  command: 'EPSV' | 'PASV';
  /**
   * 'setting': data.passive.command names it; 'first': 'auto' tries EPSV first; 'worked-before': 'auto',
   * and it worked earlier in this session; 'failed-before': 'auto', and EPSV failed earlier in this session.
   */
  why: 'setting' | 'first' | 'worked-before' | 'failed-before';
}

/** Passive: where the data connection goes, after the 229/227 reply and the address rule. */
export interface PassiveTargetEvent {
  step: 'target';
  mode: 'passive';
  command: 'EPSV' | 'PASV';
  /** What the reply advertised: a port only for EPSV (RFC 2428 s3), an IPv4 address and a port for PASV. */
  advertised: { host?: string; port: number };
  /** Where the client connects. */
  target: Endpoint;
  /**
   * The rule applied: 'epsv' (the control host, RFC 2428 s3), or the PASV address policy
   * (data.passive.addressPolicy: 'control', 'reply', 'auto').
   */
  rule: 'epsv' | PasvAddressPolicyName;
  /** Which address the target is. */
  source: 'control host' | 'PASV reply address';
  /** True when the reply named another host than the target. */
  replaced: boolean;
  /** The rule's reason, in words (the transcript line for PASV). */
  reason: string;
}

/** Active: the listening socket and the address PORT/EPRT will advertise (before the command is sent). */
export interface ActiveListenEvent {
  step: 'listen';
  mode: 'active';
  /** Where the client listens. */
  listening: Endpoint;
  /** data.active.portRange, when set. */
  portRange?: { min: number; max: number };
  /** The address and port PORT/EPRT carry. */
  advertised: Endpoint;
  /**
   * Where the advertised address comes from: data.active.advertiseAddress, data.active.bindAddress (a
   * specific address), or the control connection's local address (the default); 'socks-bind': the
   * address a SOCKS5 proxy listens on for us (BIND, RFC 1928 s4; client/active-socks.ts).
   */
  rule: 'advertiseAddress' | 'bindAddress' | 'control-local-address' | 'socks-bind';
}

/** Active: PORT or EPRT is about to be sent. A refused EPRT is followed by a PORT offer (see 'fallback'). */
export interface ActiveOfferEvent {
  step: 'offer';
  mode: 'active';
  command: 'EPRT' | 'PORT';
  /** The argument as sent: "|1|192.0.2.7|50001|" (RFC 2428 s2) or "192,0,2,7,195,81" (RFC 959 s4.1.2). */
  argument: string;
  advertised: Endpoint;
}

/** The data connection is up: connected to the server (passive) or accepted from it (active). */
export interface DataConnectedEvent {
  step: 'connected';
  mode: 'passive' | 'active';
  /** The server's end of the data connection. */
  remote: Endpoint;
}

/** Active: a connection from another address than the server's was refused (RFC 2577 s3, port theft). */
export interface DataPeerRefusedEvent {
  step: 'refused-peer';
  mode: 'active';
  /** Who tried to connect. */
  peer: string;
  /** The only address allowed to connect: the control connection's peer, once. */
  allowed: string;
}

/** How a data connection is set up, one event per decision, in order. */
export type DataChannelEvent = (
  | DataCommandChosenEvent | PassiveTargetEvent | ActiveListenEvent | ActiveOfferEvent
  | DataConnectedEvent | DataPeerRefusedEvent
) & { time: Date };

/** The client gave up on one way and used another. */
export interface FallbackEvent {
  /**
   * EPSV -> PASV and EPRT -> PORT (the extended command refused, RFC 2428; or an unusable 229 reply),
   * MLSD -> LIST (MLSD refused although FEAT lists MLST, RFC 3659 s7), or passive <-> active: a transfer
   * retried once in the other mode after its data connection failed (data.fallback).
   */
  from: 'EPSV' | 'EPRT' | 'MLSD' | 'passive' | 'active';
  to: 'PASV' | 'PORT' | 'LIST' | 'passive' | 'active';
  reason: 'refused' | 'unusable-reply' | 'connection-failed';
  /** The refusing reply's code (reason 'refused'). */
  replyCode?: number;
  /** What failed (reasons 'unusable-reply' and 'connection-failed'). */
  error?: Error;
  time: Date;
}

/** The TLS handshake of a protected data connection (PROT P, RFC 4217 s9) completed. */
export interface DataTlsEvent {
  mode: 'passive' | 'active';
  direction: 'download' | 'upload' | 'list';
  /** Negotiated protocol, e.g. "TLSv1.3". */
  protocol: string;
  /**
   * Whether the handshake resumed the control connection's TLS session: vsftpd (require_ssl_reuse),
   * proftpd and FileZilla Server refuse a data connection that does not.
   */
  resumed: boolean;
  /** Whether a session was offered at all (none before the control connection received one). */
  sessionOffered: boolean;
  time: Date;
}

/**
 * LIST lines that no parser understood (protocol/listing-parse.ts): they are not in the entries, so a
 * listing that looks short has its reason here (the CLI prints a warning) instead of losing them silently.
 */
export interface UnparsedListingEvent {
  /** The folder listed ('.' for the current one). */
  path: string;
  /** The lines as received (without CR). */
  lines: string[];
  time: Date;
}

/** A failed operation is tried again (src/client/retry.ts, docs/client.md#retries). */
export interface RetryEvent {
  /** The attempt about to start (2 = the first retry) and how many there may be in all. */
  attempt: number;
  attempts: number;
  /** What is retried, e.g. "RETR dir/file.bin", "list". */
  operation: string;
  path: string;
  /** Why: the failure's message. */
  reason: string;
  /** The wait before this attempt (exponential backoff). */
  delayMs: number;
  /** The byte offset the transfer continues from (REST / APPE), when it resumes. */
  resumeAt?: number;
  time: Date;
}

export interface FtpClientEvents {
  transcript: [TranscriptEvent];
  progress: [ProgressEvent];
  command: [CommandEvent];
  reply: [ReplyEvent];
  dataChannel: [DataChannelEvent];
  fallback: [FallbackEvent];
  dataTls: [DataTlsEvent];
  unparsedListing: [UnparsedListingEvent];
  retry: [RetryEvent];
}
