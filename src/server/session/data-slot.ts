/**
 * The session's one data-channel slot: the data connection PASV/EPSV/PORT/EPRT prepared for the next
 * transfer command (RFC 959 s4.1.2: the data-connection commands come first, then the transfer).
 *
 * Owns: holding at most one prepared channel (a new one discards the unused previous one, freeing its
 * port), handing it to exactly one transfer, and remembering why a channel went away by itself so the next
 * transfer command's 425 can say it.
 */
import type { DataChannel } from '../data/data-channel.js';

export class DataChannelSlot {
  private channel: DataChannel | undefined;
  /** Why the prepared channel went away by itself (said in the 425 of the next transfer command). */
  private lost: string | undefined;
  private closed = false;

  /** A channel is prepared for the next transfer command. */
  get prepared(): boolean { return this.channel !== undefined; }

  /** Why the channel prepared by PASV/EPSV is gone, if it went away by itself. */
  get lostReason(): string | undefined { return this.lost; }

  /** A short description for STAT, e.g. "passive on port 50012". */
  describe(): string | undefined { return this.channel?.describe(); }

  /** Install a new channel (or none); one at a time, so an unused previous one is discarded. */
  install(channel: DataChannel | undefined): void {
    if (this.channel && this.channel !== channel) this.channel.discard();
    this.channel = channel;
    this.lost = undefined;
    if (this.closed) channel?.discard();
  }

  /** Empty the slot if it still holds `channel` (which released itself), so the next transfer hears 425. */
  drop(channel: DataChannel, why?: string): void {
    if (this.channel !== channel) return;
    this.channel = undefined;
    this.lost = why;
  }

  /** Hand the prepared channel to a transfer (the slot is empty afterwards). */
  take(): DataChannel | undefined {
    const c = this.channel;
    this.channel = undefined;
    return c;
  }

  /** The session ended: discard what is prepared, and anything installed later. */
  close(): void {
    this.closed = true;
    this.install(undefined);
  }
}
