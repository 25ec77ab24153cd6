/**
 * What the causes of a Finding ask each end to change, with the values the doctor saw: the address the
 * client reached the server at (what a server behind NAT must advertise in 227, RFC 959 s4.1.2), the
 * server's private address (the router's forward target), the passive port range, the control port, the
 * FTP helper (ALG) to turn off, the TLS pieces. Pure: the product files turn needs into configuration lines.
 */
import { isNonPublicAddress } from '../../protocol/address-class.js';
import type { CauseCode, Finding } from '../types.js';

export interface PortRange { min: number; max: number }

/**
 * The passive range proposed when the server needs one and the doctor cannot know the admin's: above the
 * ephemeral ports Linux hands out (32768-60999 by default) would be safer, but 50000-50100 is the range
 * the products' own docs use in examples, and any free range works as long as server, firewall and router
 * agree - which is why every line below uses the same one.
 */
export const SUGGESTED_PASSIVE_PORTS: PortRange = { min: 50000, max: 50100 };

export interface FixOptions {
  /** The server's passive range, when the admin has one (default SUGGESTED_PASSIVE_PORTS). */
  passivePorts?: PortRange;
}

export interface ServerNeeds {
  /** Advertise this address in 227 (the address the client connected to). */
  passiveAddress?: string;
  /** Listen for passive data connections on this range and let it in. */
  passivePorts?: PortRange;
  /** The server's private address, seen in its 227 reply: where a NAT router forwards the passive range. */
  forwardTo?: string;
  /** Let this control port in (and forward it on the router). */
  controlPort?: number;
  /** Turn off the FTP helper (ALG) between the ends: it cannot read TLS and it rewrites cleartext replies. */
  disableHelper?: boolean;
  /** Install a certificate that names this host (from a CA clients trust). */
  certificateFor?: string;
  /** Do not require TLS session reuse on data connections (RFC 4217 s10.2 leaves it to the server). */
  noSessionReuse?: boolean;
  /** Cap TLS at 1.2 (TLS 1.3 session tickets break data-connection resumption in some servers). */
  tlsMax12?: boolean;
}

export interface ClientNeeds {
  /** Let the server's active-mode connections in on this range (and forward it on the user's router). */
  activePorts?: PortRange;
  /** The user's own (private) address: where the user's router forwards the active range. */
  forwardTo?: string;
  /** Turn off the FTP helper on the user's side. */
  disableHelper?: boolean;
}

export interface Needs {
  server: ServerNeeds;
  client: ClientNeeds;
  /** The causes that asked for something, per end (for the headings). */
  serverCauses: CauseCode[];
  clientCauses: CauseCode[];
}

/** The address the 227 replies carried, when it is a private one (the server's own address behind NAT). */
function privatePasvAddress(f: Finding): string | undefined {
  for (const r of f.matrix) {
    const h = r.advertised?.host;
    if (h && isNonPublicAddress(h) && h !== '0.0.0.0') return h;
  }
  return undefined;
}

/** The address our PORT/EPRT carried from the local address ("|1|10.0.0.2|4711|" or "10,0,0,2,18,103"). */
function offeredLocalAddress(f: Finding): string | undefined {
  const offered = f.matrix.find(r => r.spec.id === 'eprt-local' || r.spec.id === 'port-local')?.offered;
  if (!offered) return undefined;
  const eprt = /^\|\d\|([^|]+)\|/.exec(offered);
  if (eprt) return eprt[1];
  const port = /^(\d+),(\d+),(\d+),(\d+),/.exec(offered);
  return port ? port.slice(1, 5).join('.') : undefined;
}

export function needsOf(f: Finding, opts: FixOptions = {}): Needs {
  const server: ServerNeeds = {};
  const client: ClientNeeds = {};
  const serverCauses: CauseCode[] = [];
  const clientCauses: CauseCode[] = [];
  const range = opts.passivePorts ?? SUGGESTED_PASSIVE_PORTS;
  const reached = f.target.controlAddress ?? f.target.addresses[0] ?? f.target.host;
  const privateAddr = privatePasvAddress(f);
  const activeRange = f.matrix.find(r => r.spec.portRange)?.spec.portRange;
  const forServer = (code: CauseCode, n: ServerNeeds) => { Object.assign(server, n); serverCauses.push(code); };
  const forClient = (code: CauseCode, n: ClientNeeds) => { Object.assign(client, n); clientCauses.push(code); };
  const passive = { passivePorts: range, ...(privateAddr ? { forwardTo: privateAddr } : {}) };

  for (const c of f.causes) {
    switch (c.code) {
      case 'control-port-dropped': case 'control-port-refused':
        forServer(c.code, { controlPort: f.target.port });
        break;
      case 'server-private-pasv-address': case 'pasv-address-unusable':
        forServer(c.code, { passiveAddress: reached, ...passive });
        break;
      case 'alg-blind-under-tls':
        if (c.title.includes('server')) forServer(c.code, { passiveAddress: reached, ...passive, disableHelper: true });
        else forClient(c.code, { activePorts: activeRange ?? range, disableHelper: true, ...localForward(f) });
        break;
      case 'server-passive-ports-dropped': case 'server-passive-ports-refused': case 'epsv-unusable':
        forServer(c.code, passive);
        break;
      case 'command-unanswered':
        forServer(c.code, { disableHelper: true });
        break;
      case 'tls-certificate':
        forServer(c.code, { certificateFor: f.target.host });
        break;
      case 'tls-data-blocked':
        forServer(c.code, { noSessionReuse: true });
        break;
      case 'tls13-resumption':
        forServer(c.code, { tlsMax12: true });
        break;
      case 'client-active-blocked': case 'client-active-port-range': case 'client-nat-no-forward':
        forClient(c.code, { activePorts: activeRange ?? range, ...(c.code === 'client-nat-no-forward' ? localForward(f) : {}) });
        break;
      default:
        break;
    }
  }
  return { server, client, serverCauses, clientCauses };
}

function localForward(f: Finding): ClientNeeds {
  const local = f.target.localAddress ?? offeredLocalAddress(f);
  return local && isNonPublicAddress(local) ? { forwardTo: local } : {};
}
