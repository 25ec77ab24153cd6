/**
 * The `proxyProtocol` section of the server configuration file (its schema: config/schema.ts), mapped onto
 * ProxyProtocolOptions (docs/server.md#behind-a-load-balancer):
 *
 *   proxyProtocol:
 *     from: [127.0.0.10, 10.0.0.0/24]   # the load balancers allowed to send a header
 *     mode: required                      # off | optional | required, for every listener (default required)
 *     control: required                   # or per listener: control, implicit, passive
 *     headerTimeout: 5s
 */
import type { ProxyProtocolOptions } from './options.js';

/** The section as the config schema (config/schema.ts) outputs it: headerTimeout already in ms. */
export interface ProxyProtocolConfig {
  from: string[];
  mode?: ProxyProtocolOptions['mode'];
  control?: ProxyProtocolOptions['control'];
  implicit?: ProxyProtocolOptions['implicit'];
  passive?: ProxyProtocolOptions['passive'];
  headerTimeout?: number;
}

export function proxyProtocolConfigToOptions(config: ProxyProtocolConfig): ProxyProtocolOptions {
  const { headerTimeout, ...rest } = config;
  const options: ProxyProtocolOptions = { from: rest.from };
  for (const key of ['mode', 'control', 'implicit', 'passive'] as const) if (rest[key]) options[key] = rest[key];
  if (headerTimeout !== undefined) options.headerTimeoutMs = headerTimeout;
  return options;
}
