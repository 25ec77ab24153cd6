/**
 * Net-level FTPS harness: a tiny "control + passive data" server built only from src/net (no FTP
 * commands), so the TLS upgrade and session-reuse machinery can be tested with two Node endpoints, with
 * openssl s_client, or with anything else that speaks TLS.
 *
 * Control: accept, optionally answer a cleartext "220"/"AUTH TLS" -> "234" exchange (explicit mode, so
 * `openssl s_client -starttls ftp` works), upgrade, then send "PORT <n>\r\n" over TLS naming a per-control
 * data listener (the analogue of a PASV port). Data: every connection to that listener goes through
 * ControlTls.secureData(); the result is queued for the test, and on success the server writes
 * `payload` and ends.
 */
import * as net from 'node:net';
import type * as tls from 'node:tls';
import { once } from 'node:events';
import { ServerTls } from '../../src/server/tls/server-tls.js';
import type { ControlTls } from '../../src/server/tls/server-tls.js';
import { FtpTlsError } from '../../src/errors.js';

export type DataOutcome = { ok: true; reused: boolean; protocol: string | null } | { ok: false; error: FtpTlsError };
export type ControlOutcome = { ok: true; socket: tls.TLSSocket } | { ok: false; error: FtpTlsError };

/** A queue whose next() waits for the next pushed value. */
export class Queue<T> {
  private items: T[] = [];
  private waiters: ((v: T) => void)[] = [];
  push(v: T): void {
    const w = this.waiters.shift();
    if (w) w(v); else this.items.push(v);
  }
  next(): Promise<T> {
    const v = this.items.shift();
    if (v !== undefined) return Promise.resolve(v);
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

export interface HarnessControl {
  tls: ControlTls;
  dataPort: number;
  dataOutcomes: Queue<DataOutcome>;
}

export interface TlsNetHarness {
  port: number;
  controlOutcomes: Queue<ControlOutcome>;
  controls: HarnessControl[];
  close(): Promise<void>;
}

export async function startTlsNetServer(serverTls: ServerTls, options: {
  mode?: 'implicit' | 'explicit';
  payload?: Buffer;
  host?: string;
} = {}): Promise<TlsNetHarness> {
  const host = options.host ?? '127.0.0.1';
  const payload = options.payload ?? Buffer.from('hello over protected data\n');
  const sockets = new Set<net.Socket | tls.TLSSocket>();
  const servers: net.Server[] = [];
  const controlOutcomes = new Queue<ControlOutcome>();
  const controls: HarnessControl[] = [];
  const track = <S extends net.Socket>(s: S): S => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    return s;
  };

  async function explicitPrelude(raw: net.Socket): Promise<void> {
    raw.write('220 net harness\r\n');
    let buf = '';
    for (;;) {
      const [chunk] = await once(raw, 'data') as [Buffer];
      buf += chunk.toString('latin1');
      const i = buf.indexOf('\n');
      if (i < 0) continue;
      const line = buf.slice(0, i).trim().toUpperCase();
      buf = buf.slice(i + 1);
      if (line === 'AUTH TLS' || line === 'AUTH SSL') break;
      raw.write('530 Please AUTH TLS first\r\n');
    }
    raw.pause();
    raw.removeAllListeners('data');
    raw.write('234 AUTH TLS ok\r\n');
  }

  const control = net.createServer((raw) => {
    track(raw);
    void (async () => {
      const ctl = serverTls.forConnection();
      if (options.mode === 'explicit') await explicitPrelude(raw);
      let sock: tls.TLSSocket;
      try {
        sock = track(await ctl.upgradeControl(raw));
      } catch (err) {
        controlOutcomes.push({ ok: false, error: err as FtpTlsError });
        return;
      }
      const dataOutcomes = new Queue<DataOutcome>();
      const data = net.createServer((rawData) => {
        track(rawData);
        ctl.secureData(rawData).then((ds) => {
          track(ds);
          dataOutcomes.push({ ok: true, reused: ds.isSessionReused(), protocol: ds.getProtocol() });
          ds.end(payload);
        }, (error: FtpTlsError) => dataOutcomes.push({ ok: false, error }));
      });
      servers.push(data);
      data.listen(0, host);
      await once(data, 'listening');
      const dataPort = (data.address() as net.AddressInfo).port;
      controls.push({ tls: ctl, dataPort, dataOutcomes });
      sock.write(`PORT ${dataPort}\r\n`);
      controlOutcomes.push({ ok: true, socket: sock });
      sock.resume();
    })().catch(() => raw.destroy());
  });
  servers.push(control);
  control.listen(0, host);
  await once(control, 'listening');
  return {
    port: (control.address() as net.AddressInfo).port,
    controlOutcomes,
    controls,
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  };
}

/** Read from a socket until "\n"; resolves the line without CR/LF. */
export async function readLine(s: NodeJS.ReadableStream & { off: Function; on: Function }): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer): void => {
      buf += d.toString('latin1');
      const i = buf.indexOf('\n');
      if (i >= 0) {
        done();
        resolve(buf.slice(0, i).replace(/\r$/, ''));
      }
    };
    const onEnd = (): void => { done(); reject(new Error(`stream ended before a line; got ${JSON.stringify(buf)}`)); };
    const onError = (e: Error): void => { done(); reject(e); };
    function done(): void { s.off('data', onData); s.off('end', onEnd); s.off('error', onError); }
    s.on('data', onData);
    s.on('end', onEnd);
    s.on('error', onError);
  });
}

/** Collect a readable stream until it ends. */
export async function readAll(s: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** net.connect that resolves once connected. */
export async function connectTcp(port: number, host = '127.0.0.1'): Promise<net.Socket> {
  const s = net.connect(port, host);
  s.on('error', () => {});
  await once(s, 'connect');
  return s;
}
