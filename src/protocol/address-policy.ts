/**
 * Address classification and the client's PASV address policy (what to do with the host in a 227 reply).
 *
 * Owns the pure decision "connect to the address in the PASV reply or to the control host?", with the reason
 * in words, so the client's transcript and the doctor can say which rule applied (docs/architecture.md#nat-is-explicit).
 * A server behind NAT often advertises its private address (RFC 1918) in PASV; FileZilla's "replace unroutable
 * PASV address" and Chilkat's PassiveUseHostAddr are the settings users know for it.
 */
import { unmapIPv4 } from './hostport.js';
import { addressScope, type AddressScope } from './address-class.js';

/** An address's reach (see address-class.ts), or 'hostname' for a name that is not an IP literal. */
export type AddressClass = AddressScope | 'hostname';

export function classifyAddress(address: string): AddressClass {
  return addressScope(address.replace(/^\[|\]$/g, '')) ?? 'hostname';
}

/** True when a client on another network cannot reach this address. */
export function isUnroutable(cls: AddressClass): boolean {
  return cls !== 'public' && cls !== 'hostname';
}

export type PasvAddressPolicyName = 'reply' | 'control' | 'auto';

/**
 * The default is the control host: a hostile or compromised server could otherwise name any host and port
 * in its 227 reply and have the client connect there and deliver an upload's bytes to it (FTP bounce in
 * reverse; curl ignores the PASV address by default since 7.74, CVE-2020-8284; RFC 2577 s3). The reply's
 * address is used only when the user or the doctor's settings ask for 'reply' (or 'auto').
 */
export const DEFAULT_PASV_ADDRESS_POLICY: PasvAddressPolicyName = 'control';

export interface PasvTargetDecision {
  /** Host to connect the data connection to. */
  host: string;
  /** True when the reply's address was replaced by the control host. */
  replaced: boolean;
  /** Short label for error messages: which address it is. */
  source: 'PASV reply address' | 'control host';
  /** The reason, in words, for the transcript. */
  reason: string;
}

/**
 * Decide where to open a passive data connection after a 227 reply.
 * @param replyHost the IPv4 address in the 227 reply
 * @param controlHost the IP address the control connection is connected to (its remote address)
 */
export function choosePasvTarget(policy: PasvAddressPolicyName, replyHost: string, controlHost: string): PasvTargetDecision {
  const control = unmapIPv4(controlHost);
  if (policy === 'reply') {
    return { host: replyHost, replaced: false, source: 'PASV reply address',
      reason: `using the PASV reply address ${replyHost} (addressPolicy reply)` };
  }
  if (policy === 'control') {
    const replaced = replyHost !== control;
    return { host: control, replaced, source: 'control host',
      reason: replaced
        ? `PASV reply names ${replyHost}; using the control connection's host ${control} (--pasv-host reply to use it)`
        : `PASV reply address ${replyHost} is the control host (addressPolicy control)` };
  }
  const replyClass = classifyAddress(replyHost);
  const controlClass = classifyAddress(control);
  if (replyHost === control) {
    return { host: replyHost, replaced: false, source: 'PASV reply address',
      reason: `PASV reply address ${replyHost} is the control host (addressPolicy auto)` };
  }
  if (replyClass === 'unspecified') {
    return { host: control, replaced: true, source: 'control host',
      reason: `PASV reply address ${replyHost} is unspecified: connecting to the control host ${control} (addressPolicy auto)` };
  }
  // An IPv4 PASV address is useless to a client that reached the server over IPv6 unless it is routable.
  if (isUnroutable(replyClass) && !isUnroutable(controlClass)) {
    return { host: control, replaced: true, source: 'control host',
      reason: `PASV reply address ${replyHost} is ${replyClass} but the control host ${control} is ${controlClass}: connecting to ${control} (addressPolicy auto)` };
  }
  if (replyClass === 'loopback' && controlClass !== 'loopback') {
    return { host: control, replaced: true, source: 'control host',
      reason: `PASV reply address ${replyHost} is loopback but the control host ${control} is not: connecting to ${control} (addressPolicy auto)` };
  }
  return { host: replyHost, replaced: false, source: 'PASV reply address',
    reason: `using the PASV reply address ${replyHost} (${replyClass}; control host ${control} is ${controlClass}; addressPolicy auto)` };
}
