/**
 * A raw FTP control connection that can be upgraded to TLS (AUTH TLS) or start in TLS (implicit), for
 * transcript-style FTPS tests of the server with exact reply codes. Data connections are protected with
 * src/net/tls-client.ts (resuming the control session) or deliberately not (to test refusals).
 */
import { once } from 'node:events';
import * as net from 'node:net';
import type * as tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { ClientTls } from '../../src/net/tls-client.js';
import type { TlsSettings } from '../../src/client/options.js';
import { parseEpsvReply } from '../../src/protocol/hostport.js';

export interface FtpsReply { code: number; text: string }

export class FtpsRawControl {
  private buffer = '';
  private pending: string[] = [];
  private readonly replies: FtpsReply[] = [];
  private waiters: Array<{ resolve: (r: FtpsReply) => void; reject: (e: Error) => void }> = [];
  private ended = false;
  private detach: () => void = () => {};
  socket: Duplex;
  greeting!: FtpsReply;

  private constructor(readonly raw: net.Socket, readonly clientTls: ClientTls) {
    this.socket = raw;
    raw.on('error', () => {});
    this.attach(raw);
  }

  /** Connect (and, with implicit, do the TLS handshake first), then read the greeting. */
  static async connect(host: string, port: number, settings: TlsSettings, implicit = false): Promise<FtpsRawControl> {
    const raw = net.connect({ host, port });
    raw.on('error', () => {});
    await once(raw, 'connect');
    const clientTls = await ClientTls.create({ host, settings, handshakeTimeoutMs: 5000 });
    if (implicit) {
      const c = new FtpsRawControl(raw, clientTls);
      c.detach();
      const s = await clientTls.upgradeControl(raw);
      c.socket = s;
      c.attach(s);
      c.greeting = await c.read();
      return c;
    }
    const c = new FtpsRawControl(raw, clientTls);
    c.greeting = await c.read();
    return c;
  }

  private attach(s: Duplex): void {
    const onData = (d: Buffer): void => this.onData(d.toString('utf8'));
    const fail = (): void => {
      this.ended = true;
      for (const w of this.waiters.splice(0)) w.reject(new Error('control connection closed'));
    };
    s.on('data', onData);
    s.on('close', fail);
    s.on('error', fail);
    this.detach = () => { s.off('data', onData); s.off('close', fail); s.off('error', fail); };
  }

  get tlsSocket(): tls.TLSSocket | undefined {
    return this.socket !== this.raw ? (this.socket as tls.TLSSocket) : undefined;
  }

  get closed(): boolean { return this.ended; }

  /** AUTH TLS (or the given verb line), expect 234, then handshake. */
  async authTls(line = 'AUTH TLS'): Promise<tls.TLSSocket> {
    const r = await this.send(line);
    if (r.code !== 234) throw new Error(`${line}: ${r.code} ${r.text}`);
    this.detach();
    const s = await this.clientTls.upgradeControl(this.raw);
    this.socket = s;
    this.attach(s);
    return s;
  }

  /** USER/PASS, then TYPE I. */
  async login(user = 'test', password = 'test'): Promise<void> {
    const r1 = await this.send(`USER ${user}`);
    if (r1.code !== 331) throw new Error(`USER: ${r1.code} ${r1.text}`);
    const r2 = await this.send(`PASS ${password}`);
    if (r2.code !== 230) throw new Error(`PASS: ${r2.code} ${r2.text}`);
    // Byte-exact transfers in the tests (the RFC 959 default is TYPE A).
    const r3 = await this.send('TYPE I');
    if (r3.code !== 200) throw new Error(`TYPE I: ${r3.code} ${r3.text}`);
  }

  private onData(d: string): void {
    this.buffer += d;
    let i: number;
    while ((i = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, i).replace(/\r$/, '');
      this.buffer = this.buffer.slice(i + 1);
      this.pending.push(line);
      const m = /^(\d{3})([ -])/.exec(this.pending[0]);
      if (!m) { this.pending = []; continue; }
      if (m[2] === '-' && !(this.pending.length > 1 && line.startsWith(`${m[1]} `))) continue;
      const lines = this.pending;
      this.pending = [];
      const r = { code: Number(m[1]), text: lines.map((l) => (/^\d{3}[ -]/.test(l) ? l.slice(4) : l)).join('\n') };
      const w = this.waiters.shift();
      if (w) w.resolve(r); else this.replies.push(r);
    }
  }

  read(): Promise<FtpsReply> {
    const r = this.replies.shift();
    if (r) return Promise.resolve(r);
    if (this.ended) return Promise.reject(new Error('control connection closed'));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  write(data: string): void { this.socket.write(data); }

  send(line: string): Promise<FtpsReply> {
    this.socket.write(`${line}\r\n`);
    return this.read();
  }

  /** EPSV and connect the data socket (TCP only). */
  async epsv(): Promise<net.Socket> {
    const r = await this.send('EPSV');
    if (r.code !== 229) throw new Error(`EPSV: ${r.code} ${r.text}`);
    const s = net.connect({ host: this.raw.remoteAddress!, port: parseEpsvReply(r.text) });
    s.on('error', () => {});
    await once(s, 'connect');
    return s;
  }

  close(): void {
    this.socket.destroy();
    this.raw.destroy();
  }
}

export async function readStream(s: Duplex): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
