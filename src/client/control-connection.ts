/**
 * The client's control connection: the one place that owns the control socket.
 *
 * Owns: writing command lines (refusing CR/LF/NUL, masking PASS in the transcript), reading replies through
 * the bounded ReplyParser, bounded waits for the next reply, and `replaceSocket()` so the TLS layer can swap
 * the TCP socket for a TLS socket after AUTH TLS (RFC 4217 s4) without anything else noticing.
 * It does not order commands: FtpClient runs one command at a time on top of it. It reports every command
 * written and every reply read, with the command the reply answers, to its observer (the client's events).
 */
import type { Duplex } from 'node:stream';
import { FtpClosedError, FtpProtocolError, FtpUsageError, classifySocketError, type NetworkPhase } from '../errors.js';
import { ReplyParser, isPreliminary, type FtpResponse, type ReplyParserLimits } from '../protocol/reply-parser.js';
import { unmapIPv4 } from '../protocol/hostport.js';
import { maskOutgoingCommand } from '../protocol/masking.js';
import { networkError, formatEndpoint } from '../net/connect.js';

/** A control or data socket: a net.Socket, a tls.TLSSocket, or any Duplex a test connector provides. */
export type SocketLike = Duplex & {
  remoteAddress?: string | undefined;
  remotePort?: number | undefined;
  localAddress?: string | undefined;
  localPort?: number | undefined;
  setNoDelay?: (noDelay?: boolean) => unknown;
};

type Waiter = { resolve: (r: FtpResponse) => void; reject: (e: Error) => void };

/** Who hears what crosses the control connection (FtpClient's event publisher). */
export interface ControlObserver {
  /** A command line was written; PASS/ACCT arguments are masked. */
  command(masked: string): void;
  /** A reply was read; `answers` is the (masked) command it answers, undefined for the greeting or unasked. */
  reply(reply: FtpResponse, answers: string | undefined): void;
}

/** RFC 959 s4.1: a command line ends at CRLF; an argument with CR, LF or NUL would inject a second command. */
export function assertSafeCommand(command: string): void {
  if (/[\r\n\0]/.test(command)) {
    throw new FtpUsageError(`refusing to send a command containing CR, LF or NUL: ${JSON.stringify(maskOutgoingCommand(command))}`);
  }
}

export class ControlConnection {
  private sock: SocketLike;
  private parser: ReplyParser;
  private readonly queue: FtpResponse[] = [];
  private waiter: Waiter | undefined;
  private failure: Error | undefined;
  private readonly limits: ReplyParserLimits;
  private detach: () => void = () => {};
  /**
   * Commands written whose final reply has not arrived, oldest first (masked). Replies come in command
   * order (RFC 959 s4.2): a 1xx answers the oldest without completing it, any other reply completes it.
   */
  private readonly unanswered: string[] = [];
  /** The remote IP of the first (TCP) socket, kept when TLS replaces it. */
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;

  constructor(socket: SocketLike, private readonly observer: ControlObserver,
    private readonly endpoint: string, limits: ReplyParserLimits = {}) {
    this.sock = socket;
    this.limits = limits;
    this.parser = new ReplyParser(limits);
    this.remoteAddress = unmapIPv4(socket.remoteAddress ?? '');
    this.remotePort = socket.remotePort ?? 0;
    this.localAddress = unmapIPv4(socket.localAddress ?? '');
    this.attach(socket);
  }

  get socket(): SocketLike { return this.sock; }
  get closed(): boolean { return this.failure !== undefined; }
  /** Why the connection is unusable, if it is. */
  get closedReason(): Error | undefined { return this.failure; }

  /**
   * Swap the underlying socket (after AUTH TLS: the TLS socket wrapping the old one). Replies already parsed
   * stay queued; the old socket's listeners are removed so it is no longer read here.
   */
  replaceSocket(socket: SocketLike): void {
    this.detach();
    this.sock = socket;
    this.parser = new ReplyParser(this.limits);
    this.attach(socket);
  }

  private attach(socket: SocketLike): void {
    const onData = (chunk: Buffer): void => {
      let replies: FtpResponse[];
      try {
        replies = this.parser.push(chunk);
      } catch (e) {
        this.fail(e as Error);
        return;
      }
      for (const r of replies) this.deliver(r);
    };
    const onError = (e: Error): void => {
      const failure = classifySocketError(e);
      this.fail(networkError({ connection: 'control', phase: 'command', failure: failure === 'other' ? 'reset' : failure,
        endpoint: this.endpoint, cause: e, detail: e.message }));
    };
    const onClose = (): void => {
      const pending = this.parser.describePending();
      this.fail(pending
        ? new FtpProtocolError(`the server closed the control connection inside a reply: ${pending}`)
        : networkError({ connection: 'control', phase: 'command', failure: 'closed', endpoint: this.endpoint,
          detail: 'the server closed the connection' }));
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.on('end', onClose);
    this.detach = () => {
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      socket.off('end', onClose);
    };
  }

  private deliver(r: FtpResponse): void {
    const answers = this.unanswered[0];
    if (!isPreliminary(r.code)) this.unanswered.shift();
    this.observer.reply(r, answers);
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      w.resolve(r);
    } else {
      this.queue.push(r);
    }
  }

  /** Mark the connection unusable, reject a waiting reader, destroy the socket. */
  fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(err);
    this.detach();
    this.sock.on('error', () => {}); // late errors after we gave up on the socket must not crash the process
    this.sock.destroy();
  }

  /**
   * Replies that arrived while nobody waited (e.g. a 421 before closing); taken out of the queue. Called
   * before a new exchange, when every earlier command has had its reply or never will (a server that
   * folds the two replies after ABOR into one): those are forgotten, so the next reply answers the next command.
   */
  takeUnsolicited(): FtpResponse[] {
    this.unanswered.length = 0;
    return this.queue.splice(0, this.queue.length);
  }

  /** Write one command line. Masks PASS/ACCT for the observer. */
  write(command: string): void {
    assertSafeCommand(command);
    if (this.failure) throw this.failure;
    const masked = maskOutgoingCommand(command);
    this.unanswered.push(masked);
    this.observer.command(masked);
    this.sock.write(`${command}\r\n`);
  }

  /**
   * The next reply. With timeoutMs > 0 the wait is bounded: on expiry the connection is failed (a late reply
   * would be taken for the answer to the next command), with FtpProtocolError when a multi-line reply was
   * left open, else FtpNetworkError timeout. `command` (masked) names the command waited for on the error.
   */
  nextReply(timeoutMs: number, phase: NetworkPhase, what: string, command?: string): Promise<FtpResponse> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failure) return Promise.reject(this.failure);
    if (this.waiter) return Promise.reject(new Error('internal: two readers on the control connection'));
    const started = performance.now();
    return new Promise<FtpResponse>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => { if (timer) clearTimeout(timer); };
      this.waiter = {
        resolve: r => { done(); resolve(r); },
        reject: e => { done(); reject(e); },
      };
      if (timeoutMs > 0) {
        timer = setTimeout(() => {
          const elapsedMs = performance.now() - started;
          const pending = this.parser.describePending();
          const err = pending
            ? new FtpProtocolError(`${pending} after ${Math.round(elapsedMs)} ms (waiting for the reply to ${what})`)
            : networkError({ connection: 'control', phase, failure: 'timeout', endpoint: this.endpoint, elapsedMs,
              detail: `no reply to ${what}`, command });
          this.fail(err);
        }, timeoutMs);
      }
    });
  }

  /**
   * The next reply if one arrives within `ms`, else undefined — without failing the connection. For replies
   * a server may or may not send (the second reply after ABOR, which some servers fold into one).
   */
  maybeNextReply(ms: number): Promise<FtpResponse | undefined> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failure) return Promise.reject(this.failure);
    if (this.waiter) return Promise.reject(new Error('internal: two readers on the control connection'));
    return new Promise<FtpResponse | undefined>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.waiter === waiter) this.waiter = undefined;
        resolve(undefined);
      }, ms);
      const waiter: Waiter = {
        resolve: r => { clearTimeout(timer); resolve(r); },
        reject: e => { clearTimeout(timer); reject(e); },
      };
      this.waiter = waiter;
    });
  }

  /** Whether a reply is being received or waits unread. */
  get hasPendingInput(): boolean { return this.queue.length > 0 || this.parser.pending; }

  /** Half-close gracefully, then destroy after a bound. */
  async end(timeoutMs: number): Promise<void> {
    const s = this.sock;
    this.failure ??= new FtpClosedError('the connection was closed by close()');
    this.detach();
    s.on('error', () => {});
    if (s.destroyed) return;
    await new Promise<void>(resolve => {
      const t = setTimeout(() => { s.destroy(); resolve(); }, timeoutMs);
      s.once('close', () => { clearTimeout(t); resolve(); });
      s.end();
      s.resume();
    });
  }
}

export { formatEndpoint };
