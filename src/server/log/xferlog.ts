/**
 * Owns the transfer log in the classic xferlog(5) format of wu-ftpd, as vsftpd writes it with
 * xferlog_std_format=YES: one line per finished upload or download, for the log analyzers that read it
 * (webalizer, xferstats...). It subscribes to the server's 'upload', 'download' and 'transfer-failed'
 * events like the JSON-lines logger; listings are not transfers of a file and are not logged.
 *
 * A line is fourteen fields separated by single spaces:
 *   current-time transfer-time remote-host file-size filename transfer-type special-action-flag
 *   direction access-mode username service-name authentication-method authenticated-user-id
 *   completion-status
 * e.g. `Sun Dec  6 01:02:03 2026 1 127.0.0.1 1048576 /pub/file.bin b _ o a anonymous ftp 0 * c`.
 * Choices, following vsftpd's writer:
 * - current-time is ctime(3) format in local time, when the transfer ended.
 * - transfer-time is whole seconds, at least 1 (a 0 would make analyzers divide by zero).
 * - filename is the virtual path the client saw. Spaces become `_` (as vsftpd does: readers split on
 *   spaces); any other white space or control character (a newline in a file name would forge a second
 *   line) becomes `_` or `?` too, so one transfer is always exactly one well-formed line.
 * - access mode `a` (anonymous) or `r` (real user); `g` (guest) does not exist here.
 * - username: for anonymous logins vsftpd logs the password (by custom an e-mail address); we log the
 *   name `anonymous`, because a password never reaches our events or logs (src/server/events.ts).
 * - service `ftp`, authentication method `0` (none: no RFC 931 ident lookup), user id `*`.
 * - completion status `c` for a completed transfer, `i` for a failed or aborted one (file-size is then
 *   the bytes moved before it stopped).
 * The deletion direction `d` of some writers is not in xferlog(5)'s original list and is not written.
 */
import type { Writable } from 'node:stream';
import type { FtpServerEvents, TransferEvent } from '../events.js';
import type { FtpServerEventSource } from './json-logger.js';
import { LogSink } from './log-sink.js';

export interface XferLoggerOptions {
  stream: Writable;
  /** For tests. */
  now?: () => Date;
  /** Called once when the stream fails; the transfer log then stops, the server goes on. */
  onError?: (error: Error) => void;
}

/** What one line says: a transfer event, which way it went and whether it completed. */
export interface XferlogEntry {
  event: TransferEvent;
  direction: 'upload' | 'download';
  completed: boolean;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => String(n).padStart(2, '0');

/** ctime(3) without its newline, in local time: "Sun Dec  6 01:02:03 2026" (day of month padded with a space). */
export function ctimeLocal(date: Date): string {
  return `${DAYS[date.getDay()]} ${MONTHS[date.getMonth()]} ${String(date.getDate()).padStart(2, ' ')} `
    + `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())} ${date.getFullYear()}`;
}

/**
 * One field of a space-separated line: white space (a space, tab, CR, LF, Unicode line separators...)
 * becomes `_` as vsftpd does for spaces, other control characters `?`; an empty value `*`.
 */
export function xferlogField(text: string): string {
  if (text === '') return '*';
  return text.replace(/\s/gu, '_').replace(/[\p{Cc}\p{Cf}]/gu, '?');
}

/** The line (without its newline) for one transfer. */
export function formatXferlogLine(entry: XferlogEntry, now: Date): string {
  const e = entry.event;
  return [
    ctimeLocal(now),
    String(Math.max(1, Math.round(e.durationMs / 1000))),
    xferlogField(e.remoteAddress),
    String(e.bytes),
    xferlogField(e.path),
    e.type === 'ascii' ? 'a' : 'b',
    '_',
    entry.direction === 'upload' ? 'i' : 'o',
    e.anonymous ? 'a' : 'r',
    xferlogField(e.user),
    'ftp',
    '0',
    '*',
    entry.completed ? 'c' : 'i',
  ].join(' ');
}

export class XferLogger {
  private readonly sink: LogSink;
  private readonly now: () => Date;

  constructor(options: XferLoggerOptions) {
    this.now = options.now ?? (() => new Date());
    this.sink = new LogSink(options.stream, options.onError);
  }

  /** Continue on a new stream (log rotation; SIGHUP reopens the file). Resolves once the old one is flushed and ended. */
  replaceStream(stream: Writable): Promise<void> {
    return this.sink.replaceStream(stream);
  }

  write(entry: XferlogEntry): void {
    this.sink.write(formatXferlogLine(entry, this.now()));
  }

  /** Subscribe to a server's transfer events. Returns a function that unsubscribes. */
  attach(server: FtpServerEventSource): () => void {
    const upload = (event: TransferEvent) => this.write({ event, direction: 'upload', completed: true });
    const download = (event: TransferEvent) => this.write({ event, direction: 'download', completed: true });
    const failed = (event: FtpServerEvents['transfer-failed'][0]) => {
      if (event.direction !== 'list') this.write({ event, direction: event.direction, completed: false });
    };
    server.on('upload', upload);
    server.on('download', download);
    server.on('transfer-failed', failed);
    return () => {
      server.off('upload', upload);
      server.off('download', download);
      server.off('transfer-failed', failed);
    };
  }
}
