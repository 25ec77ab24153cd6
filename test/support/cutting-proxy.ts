/**
 * A TCP relay in front of an FTP server that cuts streams on demand, for the client's retry tests
 * (docs/client.md#retries): it listens on 127.0.0.2 on a control port of its own and on the server's
 * passive ports, and forwards each to the same port on 127.0.0.1. The client talks to 127.0.0.2; EPSV
 * and PASV (addressPolicy 'control', the default) send its data connections to 127.0.0.2 as well, so
 * every connection passes here.
 *
 * `armData()` makes the next data connections break after N bytes in one direction (a download's stream
 * ends early, an upload's is reset),
 * optionally resetting the control connection at the same moment; `retarget()` points the control port at
 * another server port (a restarted server); `pause()` refuses every connection meanwhile.
 */
import net from 'node:net';

export interface CutRule {
  /** 'down': server to client (RETR, LIST); 'up': client to server (STOR). */
  direction: 'down' | 'up';
  afterBytes: number;
  /** How many data connections to cut (each next one), default 1. */
  times?: number;
  /** Reset the newest control connection at the same moment. */
  control?: boolean;
  /**
   * Called once the cut's bytes are handed to the kernel, before the reset; the cut waits for it. An
   * upload's test waits here until the server has stored those bytes: a reset discards what the server
   * has not read yet, so without it what SIZE finds after the cut is a race. `cut` counts from 1.
   */
  holdUntil?: (cut: number) => Promise<void>;
}

export interface CuttingProxy {
  host: string;
  port: number;
  /** One line per cut, e.g. "data down cut after 65536 bytes". */
  readonly cuts: string[];
  armData(rule: CutRule): void;
  retarget(port: number): void;
  pause(paused: boolean): void;
  close(): Promise<void>;
}

export const CUTTER_HOST = '127.0.0.2';

export async function startCuttingProxy(target: { port: number; pasv: { min: number; max: number } }): Promise<CuttingProxy> {
  let targetPort = target.port;
  let paused = false;
  let rule: (CutRule & { left: number }) | undefined;
  const cuts: string[] = [];
  const servers: net.Server[] = [];
  const sockets = new Set<net.Socket>();
  const controls: net.Socket[] = [];

  const relay = (client: net.Socket, port: number, kind: 'control' | 'data'): void => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    if (paused) { client.resetAndDestroy(); return; }
    if (kind === 'control') controls.push(client);
    const upstream = net.connect({ host: '127.0.0.1', port });
    sockets.add(upstream);
    upstream.on('close', () => { sockets.delete(upstream); if (!client.destroyed) client.end(); });
    upstream.on('error', () => { client.resetAndDestroy(); });
    // end(), not destroy(): what is still buffered for the server (an upload's last megabytes) must reach it.
    client.on('close', () => { if (!upstream.destroyed) upstream.end(); });
    client.on('end', () => upstream.end());
    const active = kind === 'data' && rule && rule.left > 0 ? rule : undefined;
    if (active) active.left--;
    const cutNumber = active ? (active.times ?? 1) - active.left : 0;
    let moved = 0;
    const forward = (from: net.Socket, to: net.Socket, direction: 'down' | 'up'): void => {
      from.on('data', (chunk: Buffer) => {
        if (!active || active.direction !== direction) { to.write(chunk); return; }
        if (moved + chunk.length < active.afterBytes) { moved += chunk.length; to.write(chunk); return; }
        const part = chunk.subarray(0, active.afterBytes - moved);
        moved = active.afterBytes;
        cuts.push(`data ${direction} cut after ${active.afterBytes} bytes${active.control ? ' (and the control connection)' : ''}`);
        // Down: the client's stream ends early (FIN after exactly afterBytes: a reset would make its kernel
        // drop what is still in flight) and the server's side is torn down, so it answers 426. Up: both
        // sides are reset, so the server does not take the short stream for a complete upload. With
        // `control`, the control connection gets a reset at the same moment.
        const after = (): void => {
          if (direction === 'down') upstream.destroy();
          else { upstream.resetAndDestroy(); client.resetAndDestroy(); }
          if (active.control) controls.at(-1)?.resetAndDestroy();
        };
        const hold = (): void => {
          if (!active.holdUntil) { after(); return; }
          active.holdUntil(cutNumber).then(after, (err: Error) => { cuts.push(`hold failed: ${err.message}`); after(); });
        };
        if (direction === 'down') to.end(part, hold); else to.write(part, hold);
        from.pause();
      });
    };
    forward(upstream, client, 'down');
    forward(client, upstream, 'up');
  };

  const listen = (port: number, onConnection: (s: net.Socket) => void): Promise<number> => new Promise((resolve, reject) => {
    const server = net.createServer(onConnection);
    servers.push(server);
    server.once('error', reject);
    server.listen({ host: CUTTER_HOST, port }, () => resolve((server.address() as net.AddressInfo).port));
  });
  const port = await listen(0, (s) => relay(s, targetPort, 'control'));
  for (let p = target.pasv.min; p <= target.pasv.max; p++) await listen(p, (s) => relay(s, p, 'data'));
  return {
    host: CUTTER_HOST,
    port,
    cuts,
    armData: (r) => { rule = { ...r, left: r.times ?? 1 }; },
    retarget: (p) => { targetPort = p; },
    pause: (p) => { paused = p; },
    close: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    },
  };
}
