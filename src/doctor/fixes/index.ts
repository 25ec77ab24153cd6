/**
 * Fixes for both ends, ready to paste: from a Finding's causes, the configuration lines for the server's
 * admin (server products, host firewall, NAT router, FTP helper) and for the user (the recommended settings
 * in each tool's words, and the user's own firewall/router when active mode needs it). Values come from the
 * finding (the address the client reached, the server's private address seen in 227, the control port, the
 * user's port range); only the server's passive range is a suggestion when the admin has none
 * (FixOptions.passivePorts). Pure.
 */
import type { Finding } from '../types.js';
import type { FixBlock } from './block.js';
import { firewallBlocks } from './firewall.js';
import { needsOf, type FixOptions } from './needs.js';
import { serverProductBlocks } from './servers.js';

export type { FixBlock } from './block.js';
export { SUGGESTED_PASSIVE_PORTS, type FixOptions, type PortRange } from './needs.js';

export interface Fixes {
  /** For the server's admin: product configuration, then firewall / router / helper rules. */
  admin: FixBlock[];
  /** For the user: the recommended settings in each tool's words, then their own firewall / router rules. */
  user: FixBlock[];
}

export function fixesFor(f: Finding, opts: FixOptions = {}): Fixes {
  const n = needsOf(f, opts);
  const s = n.server;
  const admin = [
    ...serverProductBlocks(s),
    ...firewallBlocks({
      ...(s.passivePorts ? { open: s.passivePorts } : {}),
      ...(s.controlPort !== undefined ? { controlPort: s.controlPort } : {}),
      ...(s.forwardTo ? { forwardTo: s.forwardTo } : {}),
      ...(s.disableHelper ? { disableHelperOn: f.target.port } : {}),
    }, 'the server'),
  ];
  const user: FixBlock[] = [];
  const r = f.recommended;
  if (r?.probeId) {
    const e = r.equivalents;
    user.push(
      { product: 'ftpkit', where: 'CLI (or: ftpkit doctor --json URL > f.json; ftpkit get --settings f.json URL)', lines: [e.ftpkit] },
      { product: 'ftpkit library', where: 'FtpClient.connect({ host, user, password, ...settings })', lines: [JSON.stringify(r.settings)] },
      { product: 'curl', where: 'shell', lines: [e.curl] },
      { product: 'lftp', where: 'shell', lines: [e.lftp] },
      { product: 'WinSCP', where: 'script (winscp.com /script=FILE)', lines: [e.winscp] },
      { product: 'FileZilla', where: 'Site Manager and Settings', lines: [e.filezilla] },
      { product: 'basic-ftp', where: "Node.js: import { Client, enterPassiveModeIPv4, enterPassiveModeIPv6 } from 'basic-ftp'", lines: [e.basicFtp] },
    );
  }
  const c = n.client;
  user.push(...firewallBlocks({
    ...(c.activePorts ? { open: c.activePorts } : {}),
    ...(c.forwardTo ? { forwardTo: c.forwardTo } : {}),
    ...(c.disableHelper ? { disableHelperOn: f.target.port } : {}),
  }, 'your machine'));
  return { admin, user };
}
