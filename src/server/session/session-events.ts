/**
 * The events one session emits on its server (events.ts), with the session's id, the client's address and
 * the user filled in: handlers, the dispatcher, the reply writer and transfers emit through it.
 */
import type { EventEmitter } from 'node:events';
import type { HandlerEvents } from '../commands/contract.js';
import type { CommandEventDetail, FtpServerEvents, TransferEvent, TransferFailedEvent } from '../events.js';

export class SessionEvents implements HandlerEvents {
  constructor(
    private readonly emitter: EventEmitter<FtpServerEvents>,
    readonly sessionId: string,
    readonly remoteAddress: string,
    /** The logged-in user's name, read when an event is emitted. */
    private readonly userName: () => string | undefined,
  ) {}

  get user(): string | undefined { return this.userName(); }

  warn(code: string, message: string): void {
    this.emitter.emit('warning', { sessionId: this.sessionId, remoteAddress: this.remoteAddress, code, message });
  }

  /** Report an unexpected error of this session ('session-error', never the EventEmitter 'error'). */
  reportError(err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    this.emitter.emit('session-error', { sessionId: this.sessionId, remoteAddress: this.remoteAddress, error });
  }

  loginFailed(user: string, failures: number): void {
    this.emitter.emit('login-failed', { sessionId: this.sessionId, remoteAddress: this.remoteAddress, user, failures });
  }

  login(user: string): void {
    this.emitter.emit('login', { sessionId: this.sessionId, remoteAddress: this.remoteAddress, user });
  }

  /** A command finished; `user` is the logged-in user or the name waiting for PASS. */
  command(user: string | undefined, verb: string, argument: string, replyCode: number, durationMs: number, detail?: CommandEventDetail): void {
    this.emitter.emit('command', {
      sessionId: this.sessionId, remoteAddress: this.remoteAddress, user, verb, argument, replyCode, durationMs, ...detail,
    });
  }

  reply(code: number, lines: string[]): void {
    // Every reply of every session passes here: build the event only when someone listens.
    if (this.emitter.listenerCount('reply') === 0) return;
    this.emitter.emit('reply', { sessionId: this.sessionId, remoteAddress: this.remoteAddress, user: this.user, code, lines });
  }

  /** Whether anyone listens to the transcript (formatting its lines costs). */
  get transcribing(): boolean { return this.emitter.listenerCount('transcript') > 0; }

  transcript(direction: 'in' | 'out', line: string): void {
    this.emitter.emit('transcript', { sessionId: this.sessionId, direction, line });
  }

  transferred(kind: 'upload' | 'download', event: TransferEvent): void {
    this.emitter.emit(kind, event);
  }

  transferFailed(event: TransferFailedEvent): void {
    this.emitter.emit('transfer-failed', event);
  }

  sessionOpen(remotePort: number, localAddress: string, localPort: number): void {
    this.emitter.emit('session-open', { sessionId: this.sessionId, remoteAddress: this.remoteAddress, remotePort, localAddress, localPort });
  }

  sessionClose(durationMs: number, reason: string): void {
    this.emitter.emit('session-close', { sessionId: this.sessionId, remoteAddress: this.remoteAddress, user: this.user, durationMs, reason });
  }
}
