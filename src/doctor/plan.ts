/**
 * The data-connection matrix: which combinations the doctor tries, and the exact ClientSettings each one
 * stands for (so a winning cell can be recommended as is). Pure.
 *
 * The cells isolate one variable each, so a difference between two cells names a cause:
 *  - EPSV vs PASV: RFC 2428 support and middleboxes that handle only one of them;
 *  - PASV with the reply's address vs the control host: a server behind NAT advertising its private address;
 *  - cleartext vs TLS: an FTP ALG that can only rewrite/open what it can read;
 *  - active from the local address / a given port range / with a given public address: the client's own
 *    firewall and NAT (RFC 959 s3.2 active mode puts the client in the server's role for the data connection).
 */
import type { ClientSettings, TlsSettings } from '../client/options.js';
import type { DataProbeSpec } from './types.js';
import { DEFAULT_PASV_ADDRESS_POLICY } from '../protocol/address-policy.js';

export interface PlanInput {
  /** The control connection is IPv6 (no PASV/PORT possible, RFC 2428 s1). */
  ipv6: boolean;
  /** Cleartext data probes are possible (the server lets us log in without TLS). */
  cleartext: boolean;
  /** TLS data probes are possible (AUTH TLS offered, or implicit TLS). */
  tls: boolean;
  /** Active-mode port range given by the user (their firewall/NAT forwards it). */
  portRange?: { min: number; max: number };
  /** Public address to advertise in PORT/EPRT given by the user (client behind NAT). */
  portAddress?: string;
  /** Skip active mode entirely (e.g. --no-active). */
  noActive?: boolean;
  /** Try passive with the control connection back in cleartext after login (CCC, RFC 4217 s6). */
  ccc?: boolean;
}

export function planMatrix(input: PlanInput): DataProbeSpec[] {
  const base: Array<Omit<DataProbeSpec, 'tls' | 'id' | 'label'> & { id: string; label: string }> = [];
  base.push({ id: 'epsv', label: 'EPSV', mode: 'passive', command: 'epsv' });
  if (!input.ipv6) {
    base.push({ id: 'pasv-reply', label: 'PASV, address from the reply', mode: 'passive', command: 'pasv', addressPolicy: 'reply' });
    base.push({ id: 'pasv-control', label: 'PASV, control host address', mode: 'passive', command: 'pasv', addressPolicy: 'control' });
  }
  if (!input.noActive) {
    const actives: Array<{ suffix: string; words: string; portRange?: { min: number; max: number }; advertiseAddress?: string }> = [
      { suffix: 'local', words: 'from the local address' },
    ];
    if (input.portRange) actives.push({ suffix: 'range', words: `listening on ${input.portRange.min}-${input.portRange.max}`, portRange: input.portRange });
    if (input.portAddress) {
      actives.push({
        suffix: 'public', words: `advertising ${input.portAddress}${input.portRange ? ` on ${input.portRange.min}-${input.portRange.max}` : ''}`,
        advertiseAddress: input.portAddress, ...(input.portRange ? { portRange: input.portRange } : {}),
      });
    }
    for (const a of actives) {
      base.push({ id: `eprt-${a.suffix}`, label: `EPRT ${a.words}`, mode: 'active', command: 'eprt',
        ...(a.portRange ? { portRange: a.portRange } : {}), ...(a.advertiseAddress ? { advertiseAddress: a.advertiseAddress } : {}) });
      if (!input.ipv6) {
        base.push({ id: `port-${a.suffix}`, label: `PORT ${a.words}`, mode: 'active', command: 'port',
          ...(a.portRange ? { portRange: a.portRange } : {}), ...(a.advertiseAddress ? { advertiseAddress: a.advertiseAddress } : {}) });
      }
    }
  }
  const out: DataProbeSpec[] = [];
  if (input.cleartext) for (const b of base) out.push({ ...b, tls: false });
  if (input.tls) {
    for (const b of base) out.push({ ...b, id: `${b.id}+tls`, label: `${b.label}, TLS`, tls: true });
    // TLS 1.2 session reuse (session ids/tickets) and TLS 1.3 (post-handshake tickets) fail differently with
    // real servers (vsftpd/proftpd require reuse): one passive and one active cell with TLS 1.2 tell them apart.
    for (const b of base.filter(x => x.id === 'epsv' || x.id === 'pasv-control' || x.id === 'eprt-local')) {
      out.push({ ...b, id: `${b.id}+tls12`, label: `${b.label}, TLS 1.2`, tls: true, tlsVersion: 'TLSv1.2' });
    }
    // CCC: login and PROT under TLS, then the control connection in cleartext, so a NAT router's FTP helper
    // can rewrite 227 and open the data port while the password and the data stay encrypted.
    if (input.ccc) {
      for (const b of base.filter(x => x.id === 'epsv' || x.id === 'pasv-reply')) {
        out.push({ ...b, id: `${b.id}+ccc`, label: `${b.label}, TLS then CCC`, tls: true, ccc: true });
      }
    }
  }
  return out;
}

/** The ClientSettings a cell stands for. `secure` is the TLS mode the control steps found to work. */
export function settingsFor(spec: DataProbeSpec, ctx: { secure: 'explicit' | 'implicit'; tls?: TlsSettings }): ClientSettings {
  const settings: ClientSettings = { secure: spec.tls ? ctx.secure : 'none' };
  if (spec.tls) {
    settings.tls = { ...(ctx.tls ?? {}), protectData: true, ...(spec.tlsVersion ? { maxVersion: spec.tlsVersion } : {}),
      ...(spec.ccc ? { clearCommandChannel: true } : {}) };
  }
  if (spec.mode === 'passive') {
    settings.data = {
      mode: 'passive',
      passive: spec.command === 'epsv' ? { command: 'epsv' } : { command: 'pasv', addressPolicy: spec.addressPolicy ?? DEFAULT_PASV_ADDRESS_POLICY },
      fallback: false,
    };
  } else {
    settings.data = {
      mode: 'active',
      active: {
        command: spec.command === 'eprt' ? 'eprt' : 'port',
        ...(spec.portRange ? { portRange: { ...spec.portRange } } : {}),
        ...(spec.advertiseAddress ? { advertiseAddress: spec.advertiseAddress } : {}),
      },
      fallback: false,
    };
  }
  return settings;
}

/**
 * Preference among working cells: TLS first (it protects the password and the data), then passive (it needs
 * nothing open on the client side, so it survives the user's network changing), EPSV before PASV (no address
 * to get wrong), the reply's address before the control host, active from the local address before ranges.
 */
export function preferenceRank(spec: DataProbeSpec): number {
  const order = ['epsv', 'pasv-reply', 'pasv-control', 'eprt-local', 'port-local', 'eprt-range', 'port-range', 'eprt-public', 'port-public'];
  const baseId = spec.id.replace(/\+(tls|tls12|ccc)$/, '');
  const i = order.indexOf(baseId);
  return (!spec.tls ? 100 : spec.ccc ? 40 : spec.tlsVersion ? 20 : 0) + (i < 0 ? 15 : i);
}
