/**
 * Reading a PROXY protocol header (proxy-protocol.ts) off a freshly accepted socket, before anything else
 * reads it: the control session, the implicit-FTPS handshake, a passive data transfer.
 *
 * Owns: collecting the first bytes (in however many chunks they arrive) until the parser decides, the
 * deadline for a header (a silent peer must not hold the connection), and handing the bytes after the
 * header back to the socket (unshift) so its next reader sees the relayed stream from its first byte.
 */
import type { Socket } from 'node:net';
import { FtpProtocolError } from '../errors.js';
import { parseProxyHeader, PROXY_HEADER_MAX_BYTES, type ProxyHeader } from './proxy-protocol.js';

export interface ReadProxyHeaderOptions {
  /** How long the header may take to arrive completely. */
  timeoutMs: number;
  /** Largest v2 header accepted. Default PROXY_HEADER_MAX_BYTES. */
  maxBytes?: number;
  /**
   * true: a peer that sends no byte within timeoutMs, or bytes that are not a header, is a direct client
   * (resolves null). false: a header is required (rejects).
   */
  optional: boolean;
}

/**
 * The header at the start of `socket`, or null (optional mode: no header). Rejects with FtpProtocolError
 * for a malformed, oversized, missing (required mode) or late header, or when the peer closes first.
 */
export function readProxyHeader(socket: Socket, options: ReadProxyHeaderOptions): Promise<ProxyHeader | null> {
  return new Promise((resolve, reject) => {
    let buffered: Buffer = Buffer.alloc(0);
    const finish = (result: ProxyHeader | null | Error, rest?: Buffer): void => {
      clearTimeout(timer);
      socket.removeListener('readable', onReadable);
      socket.removeListener('end', onEnd);
      socket.removeListener('close', onEnd);
      socket.removeListener('error', onError);
      if (result instanceof Error) { reject(result); return; }
      // The relayed stream's first bytes go back where its next reader looks for them.
      if (rest && rest.length) socket.unshift(rest);
      resolve(result);
    };
    const onReadable = (): void => {
      let chunk: Buffer | null;
      while ((chunk = socket.read() as Buffer | null) !== null) {
        buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
        let parsed;
        try {
          parsed = parseProxyHeader(buffered, options.maxBytes ?? PROXY_HEADER_MAX_BYTES);
        } catch (err) {
          finish(err as Error);
          return;
        }
        if (parsed.state === 'incomplete') continue;
        if (parsed.state === 'absent') {
          finish(options.optional ? null : new FtpProtocolError('no PROXY protocol header (required on this listener)'), buffered);
          return;
        }
        finish(parsed.header, buffered.subarray(parsed.length));
        return;
      }
    };
    const onEnd = (): void => finish(new FtpProtocolError(buffered.length
      ? 'the connection closed in the middle of its PROXY protocol header'
      : 'the connection closed before sending a PROXY protocol header'));
    const onError = (err: Error): void => finish(new FtpProtocolError(`reading the PROXY protocol header: ${err.message}`, { cause: err }));
    const timer = setTimeout(() => {
      if (options.optional && buffered.length === 0) { finish(null); return; }
      finish(new FtpProtocolError(buffered.length
        ? `PROXY protocol header incomplete after ${options.timeoutMs} ms`
        : `no PROXY protocol header within ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    socket.on('readable', onReadable);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.once('error', onError);
  });
}
