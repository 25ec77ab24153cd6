/**
 * Text syntax of the NAT flags of `ftpkit serve`, shared by the CLI and the config loader:
 *   --pasv-address-map "10.0.0.0/8,192.168.0.0/16=local"   (repeatable; "private" = all local networks)
 *   --pasv-advertised-ports 40000-40009                     (port map for the --pasv-ports range)
 * Errors are FtpConfigError naming the flag.
 */
import { FtpConfigError } from '../../errors.js';
import { parseCidr } from '../../protocol/address-class.js';
import type { PassiveAddressRule, PortRange } from '../options.js';

/** "CIDR[,CIDR...]=ADDRESS" -> rule. ADDRESS: IPv4, hostname or "local". */
export function parsePasvAddressMap(text: string, key = '--pasv-address-map'): PassiveAddressRule {
  const eq = text.lastIndexOf('=');
  if (eq <= 0 || eq === text.length - 1) {
    throw new FtpConfigError(key, `expected NETWORKS=ADDRESS (e.g. 10.0.0.0/8,192.168.0.0/16=local), got ${JSON.stringify(text)}`);
  }
  const networks = text.slice(0, eq).split(',').map(s => s.trim()).filter(Boolean);
  for (const n of networks) {
    if (n !== 'private' && !parseCidr(n)) throw new FtpConfigError(key, `not a CIDR network: ${JSON.stringify(n)}`);
  }
  if (!networks.length) throw new FtpConfigError(key, 'no networks given');
  return { networks, address: text.slice(eq + 1).trim() };
}

/** "30000-30009" or "30000" -> PortRange. */
export function parsePortRangeMap(text: string, key = '--pasv-advertised-ports'): PortRange {
  const m = /^\s*(\d{1,5})\s*(?:-\s*(\d{1,5}))?\s*$/.exec(text);
  const min = m ? Number(m[1]) : NaN;
  const max = m ? Number(m[2] ?? m[1]) : NaN;
  if (!m || min < 1 || max > 65535 || min > max) throw new FtpConfigError(key, `expected a port range like 40000-40009, got ${JSON.stringify(text)}`);
  return { min, max };
}
