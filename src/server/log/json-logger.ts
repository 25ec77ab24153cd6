/**
 * Owns the server's structured log: one JSON object per line, written by subscribing to FtpServer's events
 * (library code never prints; logging is a subscriber).
 *
 * Levels: error < warn < info < debug. At info: listening, session open/close, login (and failures),
 * each command with its reply code and duration (PASV/EPSV also with the address and port advertised and
 * the rule that chose them), each transfer with bytes and duration. At debug, in
 * addition, the protocol transcript line by line. A password never appears: PASS and ACCT arguments are
 * masked here again, whatever the emitter did (defence in depth).
 */
import type { EventEmitter } from 'node:events';
import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Writable } from 'node:stream';
import { MASK, isSecretVerb, maskCommandLine } from '../../protocol/masking.js';
import type { FtpServerEvents } from '../events.js';
import { LogSink } from './log-sink.js';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export const LOG_LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug'];
const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

/** What the logger needs from a server: its typed events. */
export type FtpServerEventSource = Pick<EventEmitter<FtpServerEvents>, 'on' | 'off'>;

export interface JsonLoggerOptions {
  level?: LogLevel;
  /** Default: process.stderr. */
  stream?: Writable;
  /** For tests. */
  now?: () => Date;
  /**
   * Called once when the stream fails (disk full, file removed with its folder...). Logging then stops;
   * the server goes on. Default: nothing (a log must never take the server down).
   */
  onError?: (error: Error) => void;
}

/** The log masks lines itself (defence in depth); its importers find the masker here too. */
export { maskCommandLine };

export class JsonLogger {
  readonly level: LogLevel;
  private readonly sink: LogSink;
  /** Milliseconds since the epoch (Date.now, or the test's `now`). */
  private readonly clock: () => number;
  /** The ISO time of `timeMs`: a busy server logs several lines per millisecond (issue 10: ~5 per session). */
  private timeMs = NaN;
  private timeText = '';

  constructor(options: JsonLoggerOptions = {}) {
    this.level = options.level ?? 'info';
    const now = options.now;
    this.clock = now ? () => now().getTime() : Date.now;
    this.sink = new LogSink(options.stream ?? process.stderr, options.onError);
  }

  /** The time field: formatted once per millisecond, not per line. */
  private time(): string {
    const ms = this.clock();
    if (ms !== this.timeMs) {
      this.timeMs = ms;
      this.timeText = new Date(ms).toISOString();
    }
    return this.timeText;
  }

  /**
   * Continue on a new stream (log rotation: the file was renamed, SIGHUP reopens it). Resolves once the
   * old stream has flushed what it had; it is ended unless it is process.stderr/stdout.
   */
  replaceStream(stream: Writable): Promise<void> {
    return this.sink.replaceStream(stream);
  }

  enabled(level: LogLevel): boolean {
    return RANK[level] <= RANK[this.level];
  }

  /** Write one record (if its level is enabled). Undefined fields are left out. */
  log(level: LogLevel, event: string, fields: Record<string, unknown> = {}): void {
    if (!this.sink.writing || !this.enabled(level)) return;
    const record = { time: this.time(), level, event, ...fields };
    this.sink.write(JSON.stringify(record));
  }

  /** Subscribe to a server's events. Returns a function that unsubscribes. */
  attach(server: FtpServerEventSource): () => void {
    const handlers: { [K in keyof FtpServerEvents]?: (...args: FtpServerEvents[K]) => void } = {
      listening: (e) => this.log('info', 'listening', { addresses: e.addresses }),
      'session-open': (e) => this.log('info', 'session-open', {
        sessionId: e.sessionId, remoteAddress: e.remoteAddress, remotePort: e.remotePort,
        localAddress: e.localAddress, localPort: e.localPort,
      }),
      'session-close': (e) => this.log('info', 'session-close', {
        sessionId: e.sessionId, user: e.user, remoteAddress: e.remoteAddress, reason: e.reason, durationMs: e.durationMs,
      }),
      login: (e) => this.log('info', 'login', { sessionId: e.sessionId, user: e.user, remoteAddress: e.remoteAddress }),
      'login-failed': (e) => this.log('warn', 'login-failed', {
        sessionId: e.sessionId, user: e.user, remoteAddress: e.remoteAddress, failures: e.failures,
      }),
      command: (e) => {
        const verb = e.verb.toUpperCase();
        this.log('info', 'command', {
          sessionId: e.sessionId, user: e.user, remoteAddress: e.remoteAddress,
          command: verb, argument: isSecretVerb(verb) ? (e.argument ? MASK : '') : e.argument,
          replyCode: e.replyCode, durationMs: e.durationMs,
          // PASV/EPSV: what was advertised and the rule that chose it (docs/nat.md).
          passive: e.passive,
        });
      },
      upload: (e) => this.log('info', 'upload', transferFields(e)),
      download: (e) => this.log('info', 'download', transferFields(e)),
      'transfer-failed': (e) => this.log('warn', 'transfer-failed', { ...transferFields(e), direction: e.direction, reason: e.reason }),
      'session-error': (e) => this.log('error', 'session-error', {
        sessionId: e.sessionId, remoteAddress: e.remoteAddress, error: describeError(e.error),
      }),
      ban: (e) => this.log('warn', 'ban', { ...e }),
      'uploads-swept': (e) => this.log('info', 'uploads-swept', { root: e.root, removed: e.removed }),
      warning: (e) => this.log('warn', 'warning', { sessionId: e.sessionId, remoteAddress: e.remoteAddress, code: e.code, message: e.message }),
      // Subscribed only at debug: a listener makes every session format its transcript (session-events.ts).
      ...(this.enabled('debug') ? {
        transcript: (e: FtpServerEvents['transcript'][0]) => this.log('debug', 'transcript', {
          sessionId: e.sessionId, direction: e.direction, line: e.direction === 'in' ? maskCommandLine(e.line) : e.line,
        }),
      } : {}),
      close: () => this.log('info', 'close'),
    };
    const on = server.on.bind(server) as (event: string, listener: (...args: never[]) => void) => unknown;
    const off = server.off.bind(server) as (event: string, listener: (...args: never[]) => void) => unknown;
    for (const [event, handler] of Object.entries(handlers)) on(event, handler as (...args: never[]) => void);
    return () => {
      for (const [event, handler] of Object.entries(handlers)) off(event, handler as (...args: never[]) => void);
    };
  }
}

function transferFields(e: FtpServerEvents['upload'][0]): Record<string, unknown> {
  return {
    sessionId: e.sessionId, user: e.user, remoteAddress: e.remoteAddress, path: e.path,
    bytes: e.bytes, durationMs: e.durationMs, offset: e.offset || undefined, dataMode: e.dataMode,
  };
}

function describeError(error: Error): Record<string, unknown> {
  return { name: error.name, code: (error as { code?: unknown }).code, message: error.message };
}

/**
 * Open a log file for appending (creating its folder), failing now rather than at the first line when it
 * cannot be written.
 */
export async function openLogFile(path: string): Promise<Writable> {
  await mkdir(dirname(path), { recursive: true });
  const handle = await open(path, 'a', 0o640);
  return handle.createWriteStream({ encoding: 'utf8' });
}
