/**
 * A scripted control connection over node:net, for the tests and scripts that play a client byte by byte
 * (brute force, bans): each complete reply's code (RFC 959 s4.2: a multi-line reply ends with "NNN ") is
 * handed to `next`, which returns the next command line, or undefined to hang up. Resolves with every code
 * seen once the connection is closed, whoever closed it; never rejects (a refused or reset connection is
 * an answer too).
 */
import { connect } from 'node:net';

export interface DialogueTarget {
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The local address to connect from (any 127/8 address works on Linux): how a test plays two clients. */
  localAddress?: string;
  /** Hang up after this long (default: never). */
  timeoutMs?: number;
}

export function dialogue(target: DialogueTarget, next: (code: number) => string | undefined): Promise<number[]> {
  return new Promise((resolve) => {
    const codes: number[] = [];
    const socket = connect({ host: target.host ?? '127.0.0.1', port: target.port, localAddress: target.localAddress });
    socket.setEncoding('utf8');
    const timer = target.timeoutMs === undefined ? undefined : setTimeout(() => socket.destroy(), target.timeoutMs);
    let buffer = '';
    socket.on('data', (d: string) => {
      buffer += d;
      let i: number;
      while ((i = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        if (!/^\d{3} /.test(line)) continue;
        const code = Number(line.slice(0, 3));
        codes.push(code);
        const out = next(code);
        if (out === undefined) socket.destroy();
        else socket.write(`${out}\r\n`);
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => { clearTimeout(timer); resolve(codes); });
  });
}
