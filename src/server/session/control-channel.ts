/**
 * The socket side of a session: the control connection's bytes in and replies out.
 *
 * Owns: framing command lines (protocol/commands.ts), the bounds on input (line length, a line that never
 * ends, commands queued) and on output (reply bytes a client leaves unread), the queue of received commands,
 * the ONE reply writer (every reply is sent and logged here), and swapping the socket for FTPS (AUTH TLS
 * puts a TLS socket in its place, RFC 4217 s4; CCC takes it off, s6). It works on any Duplex: a TCP or TLS
 * socket, or an in-memory pair in tests. Running the commands is the dispatcher's (session/dispatcher.ts).
 */
import type { Duplex } from 'node:stream';
import { CommandLineFramer, parseCommandLine } from '../../protocol/commands.js';
import { maskCommand } from '../../protocol/masking.js';
import type { FtpCommand } from '../../protocol/commands.js';
import { ReplyCode } from '../../protocol/reply-codes.js';
import { formatReply, reply } from '../../protocol/reply.js';
import type { Reply } from '../../protocol/reply.js';
import type { ControlSocketSwap } from '../commands/contract.js';
import type { SessionEvents } from './session-events.js';
import { sessionTimer } from './timers.js';

/** Commands a client may have queued while a command or transfer runs; more is abuse. */
const MAX_QUEUED_COMMANDS = 64;
/** Reply bytes waiting in the control socket's buffer before we give up on a client that does not read. */
const MAX_UNREAD_REPLY_BYTES = 4 * 1024 * 1024;

/** What the channel tells the session. */
export interface ControlChannelOwner {
  /** A line arrived (the idle timer restarts). */
  lineReceived(): void;
  /** Commands were queued: run them. */
  commandsQueued(): void;
  /** A line began but did not end within `ms` (timeouts.commandLineMs). */
  lineTimedOut(ms: number): void;
  /** The connection must end: the peer left, a socket error, or a bound was exceeded. */
  end(reason: string): void;
}

export interface ControlChannelLimits {
  maxLineLength: number;
  commandLineMs: number;
}

export class ControlChannel implements ControlSocketSwap {
  private current: Duplex;
  private framer: CommandLineFramer;
  private readonly queue: FtpCommand[] = [];
  private closed = false;
  /** Runs while a command line has begun but not ended (timeouts.commandLineMs). */
  private lineTimer: NodeJS.Timeout | undefined;
  private readonly onData = (chunk: Buffer): void => this.onBytes(chunk);
  private readonly onEnd = (): void => this.owner.end('client closed the connection');
  private readonly onError = (err: Error): void => this.owner.end(`control connection error: ${(err as NodeJS.ErrnoException).code ?? err.message}`);

  constructor(socket: Duplex, private readonly limits: ControlChannelLimits, private readonly events: SessionEvents,
    private readonly owner: ControlChannelOwner) {
    this.current = socket;
    this.framer = new CommandLineFramer(limits.maxLineLength);
  }

  /** Start reading commands. */
  start(): void { this.attach(this.current); }

  get socket(): Duplex { return this.current; }

  /** Longest command line accepted, bytes including CRLF (limits.maxLineLength). */
  get maxLineLength(): number { return this.framer.maxLineLength; }

  /** Commands waiting to run. */
  get queued(): number { return this.queue.length; }

  /** Take the first queued command that `eligible` accepts (all of them when omitted). */
  next(eligible?: (cmd: FtpCommand) => boolean): FtpCommand | undefined {
    const index = eligible ? this.queue.findIndex(eligible) : 0;
    if (index < 0 || index >= this.queue.length) return undefined;
    return this.queue.splice(index, 1)[0];
  }

  private attach(socket: Duplex): void {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onEnd);
    socket.on('error', this.onError);
  }

  private unlisten(socket: Duplex): void {
    socket.off('data', this.onData);
    socket.off('end', this.onEnd);
    socket.off('close', this.onEnd);
    socket.off('error', this.onError);
  }

  /**
   * Stop (true) or go on (false) reading the control socket, for the command rate (session/dispatcher.ts):
   * unread bytes stay in the socket's buffers, the TCP window closes and the client's sends block.
   */
  holdReading(hold: boolean): void {
    if (this.closed) return;
    if (hold) this.current.pause();
    else this.current.resume();
  }

  /** Stop reading the control socket without closing it (the FTPS module then hands it to TLS). */
  detach(): Duplex {
    this.unlisten(this.current);
    return this.current;
  }

  /** Put another Duplex in place of the control socket (call detach() first). */
  replace(socket: Duplex): void {
    this.unlisten(this.current);
    this.current = socket;
    if (!this.closed) this.attach(socket);
  }

  /** SECURITY: forget commands queued and any partial line (AUTH TLS, CVE-2011-0411; see ControlSocketSwap). */
  discardPendingInput(): void {
    this.queue.length = 0;
    this.framer = new CommandLineFramer(this.framer.maxLineLength);
    this.clearLineTimer();
  }

  private onBytes(chunk: Buffer): void {
    if (this.closed) return;
    const linesBefore = this.framer.completedLines;
    const framed = this.framer.push(chunk);
    this.watchPartialLine(this.framer.completedLines !== linesBefore);
    for (const ev of framed) {
      if (this.closed) return;
      this.owner.lineReceived();
      let cmd: FtpCommand | undefined;
      if (ev.kind === 'too-long') {
        // RFC 959 s4.2: 500 covers "command line too long" (the dispatcher answers it). The rest of the line
        // is discarded unbuffered. Queued, not answered here: a reply sent now would overtake the replies
        // to the commands before it (a client reading in order would take it for theirs). No command, so no
        // 'command' event: the warning is its signal (the defender scores it).
        this.events.transcript('in', '<line too long, discarded>');
        this.events.warn('line-too-long', `a command line over limits.maxLineLength (${this.framer.maxLineLength} bytes) was discarded`);
        cmd = { verb: '', argument: '', tooLong: true };
      } else {
        cmd = parseCommandLine(ev.text);
        if (!cmd) continue; // a stray CRLF is not a command
        if (this.events.transcribing) this.events.transcript('in', maskCommand(cmd));
      }
      if (this.queue.length >= MAX_QUEUED_COMMANDS) {
        void this.send(reply(ReplyCode.ServiceNotAvailable, 'Too many commands queued, closing'));
        this.owner.end('too many queued commands');
        return;
      }
      this.queue.push(cmd);
    }
    this.owner.commandsQueued();
  }

  /**
   * A line must end within timeouts.commandLineMs of its first byte. Without this bound a client trickling
   * a line that never ends (one byte now and then) holds the session until the idle timeout (300 s):
   * 1000 such connections locked real clients out for that long. Real clients send a line in one go.
   */
  private watchPartialLine(lineEnded: boolean): void {
    if (lineEnded) this.clearLineTimer();
    if (!this.framer.hasPartialLine) { this.clearLineTimer(); return; }
    if (this.lineTimer) return;
    const ms = this.limits.commandLineMs;
    this.lineTimer = sessionTimer(ms, () => {
      this.lineTimer = undefined;
      this.events.transcript('in', '<command line not completed in time>');
      this.owner.lineTimedOut(ms);
    });
  }

  private clearLineTimer(): void {
    if (this.lineTimer) clearTimeout(this.lineTimer);
    this.lineTimer = undefined;
  }

  /** Send a reply, emit it ('reply', 'transcript'). Resolves once handed to the socket. Never rejects. */
  send(r: Reply): Promise<void> {
    if (this.closed) return Promise.resolve();
    // Bound what a client that never reads its replies can make us buffer.
    if (this.current.writableLength > MAX_UNREAD_REPLY_BYTES) {
      this.owner.end('client does not read its replies');
      return Promise.resolve();
    }
    const text = formatReply(r);
    this.events.reply(r.code, r.lines);
    if (this.events.transcribing) {
      for (const line of text.split('\r\n')) if (line) this.events.transcript('out', line);
    }
    return new Promise<void>(resolve => {
      try {
        this.current.write(text, () => resolve());
      } catch {
        resolve();
      }
    });
  }

  /** Close the control connection; `graceful` lets already written replies (221, 421) flush first. */
  close(graceful: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.clearLineTimer();
    this.queue.length = 0;
    const socket = this.current;
    this.unlisten(socket);
    socket.on('error', () => { /* late errors after close are not interesting */ });
    if (graceful) {
      socket.end();
      const t = setTimeout(() => socket.destroy(), 2000);
      t.unref();
      socket.once('close', () => clearTimeout(t));
    } else {
      socket.destroy();
    }
  }
}
