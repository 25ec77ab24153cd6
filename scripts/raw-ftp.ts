/**
 * A raw FTP control connection for the measuring scripts (idle-sessions.ts, session-load.ts): node:net and
 * the protocol's own reply parser (RFC 959 s4.2 framing), no client library, so that the scripts measure
 * the server. Every wait has a deadline.
 */
import { connect, type Socket } from 'node:net';
import { ReplyParser, type FtpResponse } from '../src/protocol/reply-parser.js';

export class RawControl {
  private readonly parser = new ReplyParser();
  private readonly replies: FtpResponse[] = [];
  private waiting: { resolve(r: FtpResponse): void; reject(e: Error): void } | undefined;
  private failure: Error | undefined;

  private constructor(readonly socket: Socket, private readonly timeoutMs: number) {
    socket.on('data', (chunk: Buffer) => {
      let got: FtpResponse[];
      try { got = this.parser.push(chunk); } catch (err) { this.fail(err as Error); return; }
      for (const r of got) {
        if (this.waiting) { const w = this.waiting; this.waiting = undefined; w.resolve(r); } else this.replies.push(r);
      }
    });
    socket.on('error', err => this.fail(err));
    socket.on('close', () => this.fail(new Error('connection closed')));
  }

  /** Connect and read the greeting (220). */
  static async open(host: string, port: number, timeoutMs = 60_000): Promise<RawControl> {
    const socket = connect({ host, port });
    const control = new RawControl(socket, timeoutMs);
    const greeting = await control.next();
    if (greeting.code !== 220) throw new Error(`greeting ${greeting.code} ${greeting.message}`);
    return control;
  }

  private fail(err: Error): void {
    this.failure ??= err;
    if (this.waiting) { const w = this.waiting; this.waiting = undefined; w.reject(err); }
  }

  /** The next reply (preliminary ones included). */
  next(): Promise<FtpResponse> {
    const ready = this.replies.shift();
    if (ready) return Promise.resolve(ready);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.waiting = undefined; reject(new Error(`no reply within ${this.timeoutMs} ms`)); }, this.timeoutMs);
      this.waiting = {
        resolve: r => { clearTimeout(timer); resolve(r); },
        reject: e => { clearTimeout(timer); reject(e); },
      };
    });
  }

  /** Send one command line and return its reply; throws unless the code is one of `expect`. */
  async command(line: string, ...expect: number[]): Promise<FtpResponse> {
    this.socket.write(`${line}\r\n`);
    const r = await this.next();
    if (expect.length && !expect.includes(r.code)) throw new Error(`${line.split(' ')[0]}: ${r.code} ${r.message}`);
    return r;
  }

  /** USER/PASS (RFC 959 s4.1.1). */
  async login(user: string, password: string): Promise<void> {
    const r = await this.command(`USER ${user}`, 230, 331);
    if (r.code === 331) await this.command(`PASS ${password}`, 230);
  }

  close(): void { this.socket.destroy(); }
}
