/**
 * Firewall and router rules for either end, in nftables and iptables words (Linux netfilter): let the
 * passive (or active) port range in, forward it on a NAT router to the host behind it, let the control port
 * in, and turn the FTP helper (ALG: nf_conntrack_ftp / nf_nat_ftp, `ct helper "ftp"` in nftables) off, since
 * it cannot read a TLS control connection (RFC 4217) and rewrites cleartext 227/PORT on its own.
 * The nftables lines assume the usual `inet filter` table with `input`/`forward` chains and an `ip nat`
 * table with a `prerouting` chain (Debian's /etc/nftables.conf has the first). Pure.
 */
import type { FixBlock } from './block.js';
import { rangeText } from './block.js';
import type { PortRange } from './needs.js';

export interface FirewallNeeds {
  /** Ports to let in on the host itself. */
  open?: PortRange;
  /** The control port to let in (a single port). */
  controlPort?: number;
  /** The private address a NAT router forwards `open` to. */
  forwardTo?: string;
  /** Turn the FTP helper off; the control port it was attached to. */
  disableHelperOn?: number;
}

export function firewallBlocks(n: FirewallNeeds, whose: 'the server' | 'your machine'): FixBlock[] {
  const nft: string[] = [];
  const ipt: string[] = [];
  const ports = (r: PortRange) => (r.min === r.max ? `${r.min}` : rangeText(r));
  if (n.controlPort !== undefined) {
    nft.push(`nft add rule inet filter input tcp dport ${n.controlPort} accept`);
    ipt.push(`iptables -A INPUT -p tcp --dport ${n.controlPort} -j ACCEPT`);
  }
  if (n.open) {
    nft.push(`nft add rule inet filter input tcp dport ${ports(n.open)} accept`);
    ipt.push(`iptables -A INPUT -p tcp --dport ${rangeText(n.open, ':')} -j ACCEPT`);
  }
  const out: FixBlock[] = [];
  if (nft.length) out.push({ product: 'nftables', where: `on ${whose} (host firewall)`, lines: nft });
  if (ipt.length) out.push({ product: 'iptables', where: `on ${whose} (host firewall)`, lines: ipt });
  if (n.forwardTo && (n.open || n.controlPort !== undefined)) {
    const fwd = [...(n.controlPort !== undefined ? [{ min: n.controlPort, max: n.controlPort }] : []), ...(n.open ? [n.open] : [])];
    out.push({ product: 'nftables', where: `on the NAT router in front of ${whose}`, lines: fwd.flatMap(r => [
      `nft add rule ip nat prerouting tcp dport ${ports(r)} dnat to ${n.forwardTo}`,
      `nft add rule inet filter forward ip daddr ${n.forwardTo} tcp dport ${ports(r)} accept`,
    ]) });
    out.push({ product: 'iptables', where: `on the NAT router in front of ${whose}`, lines: fwd.flatMap(r => [
      `iptables -t nat -A PREROUTING -p tcp --dport ${rangeText(r, ':')} -j DNAT --to-destination ${n.forwardTo}`,
      `iptables -A FORWARD -d ${n.forwardTo} -p tcp --dport ${rangeText(r, ':')} -j ACCEPT`,
    ]) });
  }
  if (n.disableHelperOn !== undefined) {
    const p = n.disableHelperOn;
    out.push({ product: 'FTP helper (ALG) off', where: `on the routers and firewalls between you and the server (${whose}'s side)`, lines: [
      `nft -a list ruleset | grep 'ct helper'   # delete each such rule: nft delete rule <family> <table> <chain> handle <N>`,
      `iptables -t raw -D PREROUTING -p tcp --dport ${p} -j CT --helper ftp`,
      'sysctl -w net.netfilter.nf_conntrack_helper=0',
      'modprobe -r nf_nat_ftp nf_conntrack_ftp',
    ], note: 'on a home or office router: turn off "FTP ALG" (also called "FTP helper" or "NAT FTP") in its settings' });
  }
  return out;
}
