/**
 * Active mode through a proxy (docs/client.md#proxies). A SOCKS5 proxy listens for us with BIND
 * (RFC 1928 s4, net/proxy/socks-bind.ts): PORT/EPRT advertise the proxy's address and port from its first
 * reply, the server connects to the proxy, and the second reply's socket is the data socket, handed to
 * the transfer exactly where an accepted active socket goes (TLS with PROT P on it as on an accepted one:
 * the client is the TLS client in either mode, RFC 4217 s9). An HTTP CONNECT proxy has no BIND: refused
 * with a usage error naming the settings that work.
 *
 * SECURITY: the second reply names who connected; only the server may (RFC 2577 s3, port theft), as for
 * our own listener. The server's address is the tunnel's host; a name is resolved here when it can be.
 */
import dns from 'node:dns/promises';
import net from 'node:net';
import { FtpUsageError } from '../errors.js';
import { formatEndpoint } from '../net/connect.js';
import { unmapIPv4 } from '../protocol/hostport.js';
import { socksBind } from '../net/proxy/socks-bind.js';
import { parseProxyUrl, maskProxyUrl } from './proxy.js';
import { offerActive } from './active-offer.js';
import type { ClientSession } from './session.js';

export async function prepareActiveThroughProxy(session: ClientSession): Promise<{
  mode: 'active'; description: string; socket(): Promise<net.Socket>; close(): void;
}> {
  const { events } = session;
  const url = session.options.proxy ?? '';
  const proxy = parseProxyUrl(url);
  if (proxy.protocol === 'http') {
    throw new FtpUsageError(`active mode cannot go through the HTTP proxy ${maskProxyUrl(url)}: `
      + 'HTTP CONNECT has no way to listen for the server\'s connection (SOCKS5 has BIND); use passive mode '
      + '(data.mode \'passive\', --passive), or reach this host without the proxy (noProxy, --no-proxy)');
  }
  const server = session.tunnel!.host;
  const binding = await socksBind(proxy, server, session.timeouts.dataMs);
  const hp = { host: unmapIPv4(binding.bound.host), port: binding.bound.port };
  if (net.isIP(hp.host) === 0) {
    binding.close();
    throw new FtpUsageError(`the SOCKS5 proxy ${maskProxyUrl(url)} listens on ${hp.host}, a name PORT/EPRT cannot carry; use passive mode (--passive)`);
  }
  events.dataChannel({ step: 'listen', mode: 'active', listening: hp, advertised: hp, rule: 'socks-bind' });
  try {
    await offerActive(session, hp);
  } catch (e) {
    binding.close();
    throw e;
  }
  const allowed = await serverAddresses(server);
  return {
    mode: 'active',
    description: `${formatEndpoint(hp.host, hp.port)} (active, the SOCKS5 proxy's BIND address)`,
    async socket() {
      const { socket, peer } = await binding.established(session.timeouts.dataMs, allowed,
        from => events.dataChannel({ step: 'refused-peer', mode: 'active', peer: from, allowed: allowed!.join(' or ') }));
      const from = peer.host;
      events.dataChannel({ step: 'connected', mode: 'active', remote: { host: from, port: peer.port } });
      return socket;
    },
    close: () => binding.close(),
  };
}

/** The server's addresses to check the second reply's peer against; undefined when the name does not resolve here (socks5h). */
async function serverAddresses(host: string): Promise<string[] | undefined> {
  if (net.isIP(host) !== 0) return [unmapIPv4(host)];
  try {
    return (await dns.lookup(host, { all: true })).map(a => unmapIPv4(a.address));
  } catch {
    return undefined;
  }
}
