/**
 * Owns turning a denied or banned address away at accept, before anything else is done for it: no
 * session, no greeting, no TLS handshake, no password check. A plain FTP connection gets one 421 line
 * (RFC 959 s4.2: service not available, closing control connection); an implicit-FTPS one is closed (it
 * expects TLS first, and a handshake is exactly the work a banned address must not get).
 *
 * Each refusal is a 'warning' (connection-banned, connection-denied) for the log, at most one per
 * address every REPORT_EVERY_MS with the count of refusals since: an attacker knocking thousands of
 * times a second must not fill the disk through the log.
 */
import type { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { ReplyCode } from '../../protocol/reply-codes.js';
import { formatReply, reply } from '../../protocol/reply.js';
import type { FtpServerEvents } from '../events.js';
import { addressKey, type Defender } from './defender.js';

const REPORT_EVERY_MS = 10_000;
/** Addresses whose refusals are being counted at most (the map is emptied when it is full). */
const MAX_REPORTED = 10_000;

export class Admission {
  /** Per address: when its refusals were last reported, and how many since. */
  private readonly reported = new Map<string, { at: number; since: number }>();

  constructor(private readonly defender: Defender, private readonly events: EventEmitter<FtpServerEvents>) {}

  /**
   * Turn the connection away if its address is denied or banned (`plain`: send 421 first). Returns
   * whether it was turned away. `remote`: the client's address (behind a proxy: the PROXY header's).
   */
  turnAway(socket: Socket, plain = true, remote = socket.remoteAddress ?? ''): boolean {
    const refusal = this.defender.addressRefusal(remote);
    if (!refusal) return false;
    socket.on('error', () => {});
    if (plain) {
      const text = refusal.reason === 'denied'
        ? 'Connections from your address are not accepted'
        : 'Your address is blocked for a while after repeated failures; try again later';
      socket.end(formatReply(reply(ReplyCode.ServiceNotAvailable, text)));
    } else {
      socket.destroy();
    }
    this.report(addressKey(remote), refusal.reason, refusal.until);
    return true;
  }

  private report(address: string, reason: 'denied' | 'banned', until: number | undefined): void {
    const now = this.defender.options.now();
    const last = this.reported.get(address);
    if (last && now - last.at < REPORT_EVERY_MS) { last.since++; return; }
    if (this.reported.size >= MAX_REPORTED) this.reported.clear();
    const more = last && last.since > 0 ? ` (${last.since} more refused since the last report)` : '';
    this.reported.set(address, { at: now, since: 0 });
    this.events.emit('warning', {
      code: `connection-${reason}`,
      remoteAddress: address,
      message: reason === 'denied'
        ? `connection refused: ${address} is on defender.deny${more}`
        : `connection refused: ${address} is banned until ${new Date(until!).toISOString()}${more}`,
    });
  }
}
