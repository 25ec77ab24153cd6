/**
 * The client's proxy setting (docs/client.md#proxies): `proxy` (a socks5h://, socks5:// or http:// URL)
 * and `noProxy` (curl's NO_PROXY list) make the connector that opens the control connection and every
 * passive data connection through the proxy (src/net/proxy/). Without them connections are direct.
 */
import { connectTcp } from '../net/connect.js';
import { parseProxyUrl } from '../net/proxy/proxy-url.js';
import { proxyConnector } from '../net/proxy/proxy-connect.js';
import type { Connector, FtpClientOptions } from './options.js';

export { tunnelTarget } from '../net/proxy/proxy-connect.js';
export { proxyFromEnvironment, bypassesProxy, parseProxyUrl, maskProxyUrl } from '../net/proxy/proxy-url.js';

/** The connector for these options: the caller's, else through the proxy when one is set, else direct. */
export function connectorFor(options: Readonly<FtpClientOptions>): Connector {
  if (options.connector) return options.connector;
  if (!options.proxy) return connectTcp;
  return proxyConnector(parseProxyUrl(options.proxy), options.noProxy, connectTcp);
}
