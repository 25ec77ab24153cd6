/**
 * Where an active-mode (PORT/EPRT) connect-back comes from: source address and, optionally, source port 20.
 *
 * RFC 959 s3.2: the server's default data port is L-1 (20 for a control port of 21); some client-side
 * firewalls only let in connections from port 20. Binding a port below 1024 needs root or
 * CAP_NET_BIND_SERVICE: without it the bind fails with EACCES, which we turn into an error that says so.
 */
import { isIP } from 'node:net';
import { FtpConfigError, FtpNetworkError, classifySocketError } from '../../errors.js';
import { unmapIPv4 } from '../../protocol/hostport.js';
import type { ActiveOptions } from '../options.js';

export interface ActiveConnectTarget {
  /** Client's data address from PORT/EPRT. */
  host: string;
  port: number;
  /** The server's local address on the control connection. */
  controlLocalAddress: string;
}

/** Options for net.connect() / tls.connect(). */
export interface ActiveConnectOptions {
  host: string;
  port: number;
  localAddress?: string;
  localPort?: number;
}

/** Validate ActiveOptions' source settings (throws FtpConfigError naming the key). */
export function validateActiveSource(active: ActiveOptions = {}): void {
  if (active.sourceAddress !== undefined && isIP(active.sourceAddress) === 0) {
    throw new FtpConfigError('active.sourceAddress', `not an IP address: ${JSON.stringify(active.sourceAddress)}`);
  }
  if (active.sourcePort !== undefined
      && (!Number.isInteger(active.sourcePort) || active.sourcePort < 1 || active.sourcePort > 65535)) {
    throw new FtpConfigError('active.sourcePort', `not a port: ${active.sourcePort}`);
  }
}

/**
 * Connect options for the connect-back. Default source: the control connection's local address, so the data
 * connection comes from the address the client talked to (a client firewall that allows RELATED traffic
 * matches on it). A configured sourceAddress of the other family than the target is not used.
 */
export function activeConnectOptions(active: ActiveOptions, target: ActiveConnectTarget): ActiveConnectOptions {
  const host = unmapIPv4(target.host);
  const family = isIP(host);
  const out: ActiveConnectOptions = { host, port: target.port };
  const configured = active.sourceAddress;
  const local = configured !== undefined && isIP(unmapIPv4(configured)) === family ? unmapIPv4(configured) : unmapIPv4(target.controlLocalAddress);
  if (isIP(local) === family) out.localAddress = local;
  if (active.sourcePort !== undefined) out.localPort = active.sourcePort;
  return out;
}

/** Turn a failed connect-back into an FtpNetworkError that names the cause when it is the source port. */
export function activeConnectError(err: unknown, opts: ActiveConnectOptions, elapsedMs?: number): FtpNetworkError {
  const failure = classifySocketError(err);
  const endpoint = `${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${opts.port}`;
  let message: string | undefined;
  if (failure === 'permission' && opts.localPort !== undefined && opts.localPort < 1024) {
    message = `cannot connect back from port ${opts.localPort}: binding a port below 1024 needs root or `
      + 'CAP_NET_BIND_SERVICE (e.g. setcap cap_net_bind_service=+ep $(which node)); remove active.sourcePort '
      + 'to connect from any port';
  } else if (failure === 'address-in-use' && opts.localPort !== undefined) {
    message = `cannot connect back from port ${opts.localPort} to ${endpoint}: a connection from that port to the same `
      + 'client port is still open or in TIME_WAIT';
  } else if ((err as NodeJS.ErrnoException | undefined)?.code === 'EADDRNOTAVAIL') {
    message = `cannot connect back from ${opts.localAddress ?? 'the configured address'}: it is not an address of this host `
      + '(active.sourceAddress)';
  }
  return new FtpNetworkError({
    connection: 'data', phase: 'connect', failure, endpoint, elapsedMs, cause: err,
    ...(message ? { message } : {}),
  });
}

/**
 * Fail at startup, not at the first transfer, when active.sourcePort is privileged and we may not bind it:
 * a short-lived bind of that port tells. (Linux checks the privilege before whether the port is in use,
 * so EADDRINUSE means the privilege is there.)
 */
export async function checkActiveSourcePrivilege(active: ActiveOptions = {}): Promise<void> {
  validateActiveSource(active);
  const port = active.sourcePort;
  if (port === undefined || port >= 1024) return;
  const { createServer } = await import('node:net');
  const host = active.sourceAddress ?? '0.0.0.0';
  await new Promise<void>((resolve, reject) => {
    const s = createServer();
    s.once('error', err => {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') {
        reject(new FtpConfigError('active.sourcePort', `connecting back from port ${port} (RFC 959's data port) needs root or `
          + 'CAP_NET_BIND_SERVICE (e.g. setcap cap_net_bind_service=+ep "$(command -v node)"); remove active.sourcePort '
          + 'to connect from any port', { cause: err }));
      } else resolve(); // in use, or an address problem reported by the connect itself
    });
    s.listen({ port, host, exclusive: true }, () => s.close(() => resolve()));
  });
}
