/**
 * Switch an already connected plain TCP socket (the server's accepted data connections) to reading into
 * the caller's buffers, the mechanism behind net.Socket's `onread: { buffer, callback }` option. That
 * option exists only at creation (net.connect), and net.Server creates the sockets it accepts itself; so
 * this does for an existing socket what Node's lib/net.js (v20) does for `onread`: the Socket constructor
 * keeps the buffer (a generator) and the callback under the symbols kBuffer, kBufferGen and kBufferCb
 * (internal/stream_base_commons.js), and initSocketHandle() calls `_handle.useUserBuffer(buffer)`. From
 * then on onStreamRead() calls the callback instead of push(), and Socket#pause()/resume() stop and
 * start the handle's reads.
 *
 * A TLSSocket works the same way: its handle is Node's TLSWrap, a stream whose ClearOut() decrypts each
 * record into a 16 KiB buffer of its own and then asks its listener for room (EmitAlloc) and copies the
 * record there; with a user buffer that room is ours, so no Buffer is allocated per record and no
 * Readable queue or 'data' event is passed. Unlike a TCP handle it does not stop at once when the callback
 * says so (wire-blocks.ts spills what comes after). Measured (TLS STOR of 1 GiB with curl, loopback, 2 cores,
 * server CPU per GiB): 2520 ms on the 'data' path, 1050 ms reading into blocks (docs/bench.md).
 *
 * These are Node internals: the symbols are found by their descriptions on a probe socket made with
 * `onread` (nothing is opened), and checked to hold what onread put there. Where anything is missing
 * (another Node, a socket without a stream handle) nothing is changed and the caller keeps the
 * ordinary 'data' path: slower, never wrong.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';

export interface UserBufferReads {
  /** The buffer the next read goes into (asked again after each read). */
  buffer: () => Uint8Array;
  /** n bytes were read into `buf`; false stops reading until the socket is resumed. */
  callback: (n: number, buf: Uint8Array) => boolean;
}

interface Internals { kBuffer: symbol; kBufferGen: symbol; kBufferCb: symbol }

type Indexed = Record<symbol, unknown>;
interface StreamHandle { useUserBuffer?: (buf: Uint8Array) => void }

let internals: Internals | null | undefined;

/** The onread symbols of this Node's net.Socket, or null when they are not where v20 keeps them. */
function findInternals(): Internals | null {
  if (internals !== undefined) return internals;
  const buffer = (): Uint8Array => Buffer.alloc(1);
  const callback = (): boolean => true;
  // @types/node lists onread for net.connect only; the Socket constructor is where lib/net.js reads it.
  const probe = new net.Socket({ onread: { buffer, callback } } as net.SocketConstructorOpts);
  const bySymbol = new Map(Object.getOwnPropertySymbols(probe).map(s => [s.description, s]));
  const kBuffer = bySymbol.get('kBuffer');
  const kBufferGen = bySymbol.get('kBufferGen');
  const kBufferCb = bySymbol.get('kBufferCb');
  const held = probe as unknown as Indexed;
  internals = kBuffer && kBufferGen && kBufferCb && held[kBuffer] === true && held[kBufferGen] === buffer
    && held[kBufferCb] === callback ? { kBuffer, kBufferGen, kBufferCb } : null;
  probe.destroy();
  return internals;
}

/** Counts of switches made, for tests that must notice when the fast path silently stops being taken. */
export const userBufferSwitches = { count: 0 };

/**
 * Make `socket` read into `reads`' buffers from now on; true when switched, false when it cannot be (it is
 * then untouched). What it had already read and queued (at most `maxQueued` bytes, else false) is handed
 * to `takeQueued` first, in order, before the first buffer is asked for. The socket must have no 'data'
 * consumer; the caller resumes it.
 */
export function readIntoUserBuffers(socket: Duplex, reads: UserBufferReads, maxQueued: number,
  takeQueued: (chunk: Buffer) => void): boolean {
  if (!(socket instanceof net.Socket)) return false;
  const handle = (socket as unknown as { _handle?: StreamHandle | null })._handle;
  if (typeof handle?.useUserBuffer !== 'function') return false;
  if (socket.destroyed || socket.readableEnded || socket.readableFlowing === true || socket.listenerCount('data') > 0) return false;
  if (socket.readableLength > maxQueued) return false;
  const k = findInternals();
  const own = socket as unknown as Indexed;
  if (!k || own[k.kBuffer] !== null || own[k.kBufferCb] !== null || own[k.kBufferGen] !== null) return false;
  // What the socket read before the switch sits in its Readable queue: take it out first, in order.
  for (let chunk: Buffer | null; (chunk = socket.read() as Buffer | null) !== null;) takeQueued(chunk);
  const first = reads.buffer();
  own[k.kBuffer] = first;
  own[k.kBufferGen] = reads.buffer;
  own[k.kBufferCb] = reads.callback;
  handle.useUserBuffer(first);
  userBufferSwitches.count++;
  return true;
}
