/**
 * The transcript as a subscriber: turns the client's structured events into the "Command:/Response:/Status:"
 * lines users know from FileZilla. The words live here, not where the decisions are made (data-channel.ts,
 * run-transfer.ts, listings.ts publish facts); one formatter per client remembers what it already said.
 */
import { formatEndpoint } from '../net/connect.js';
import type {
  CommandEvent, DataChannelEvent, DataTlsEvent, FallbackEvent, FtpClientEvents, ReplyEvent, TranscriptEvent,
} from './events.js';

export type TranscriptLine = Omit<TranscriptEvent, 'time'>;

/** The structured events the transcript subscribes to. */
export type TranscribedEvents = Pick<FtpClientEvents, 'command' | 'reply' | 'dataChannel' | 'fallback' | 'dataTls'>;

export class TranscriptFormatter {
  /** The default PASV policy ignoring the reply's address is said once per session, not before every transfer. */
  private pasvAddressIgnoredSaid = false;

  /** A new session (connect()): say everything again. */
  reset(): void {
    this.pasvAddressIgnoredSaid = false;
  }

  lineFor<K extends keyof TranscribedEvents>(name: K, event: TranscribedEvents[K][0]): TranscriptLine | undefined {
    switch (name) {
      case 'command': return { kind: 'command', text: (event as CommandEvent).command, connection: 'control' };
      case 'reply': return { kind: 'response', text: (event as ReplyEvent).lines.join('\n'), connection: 'control' };
      case 'dataChannel': return this.dataChannelLine(event as DataChannelEvent);
      case 'fallback': return fallbackLine(event as FallbackEvent);
      case 'dataTls': return dataTlsLine(event as DataTlsEvent);
      default: return undefined;
    }
  }

  private dataChannelLine(e: DataChannelEvent): TranscriptLine | undefined {
    switch (e.step) {
      case 'command':
        return status(e.command === 'EPSV'
          ? e.why === 'setting' ? 'passive mode: EPSV (passive command epsv)'
            : `passive mode: trying EPSV${e.why === 'worked-before' ? ' (worked before in this session)' : ' first (passive command auto)'}`
          : e.why === 'setting' ? 'passive mode: PASV (passive command pasv)' : 'passive mode: PASV (EPSV failed earlier in this session)');
      case 'target': {
        if (e.command === 'EPSV') return status(`EPSV: connecting to ${formatEndpoint(e.target.host, e.target.port)}`, 'data');
        const ignoredReply = e.rule === 'control' && e.replaced;
        if (ignoredReply && this.pasvAddressIgnoredSaid) {
          return status(`PASV: connecting to the control host ${e.target.host} (addressPolicy control)`, 'data');
        }
        if (ignoredReply) this.pasvAddressIgnoredSaid = true;
        return status(e.reason, 'data');
      }
      case 'listen': {
        const range = e.portRange ? ` (port range ${e.portRange.min}-${e.portRange.max})` : '';
        const source = e.rule === 'control-local-address' ? 'local address of the control connection'
          : e.rule === 'socks-bind' ? 'where the SOCKS5 proxy listens for us, BIND' : e.rule;
        return status(`active mode: listening on ${formatEndpoint(e.listening.host, e.listening.port)}${range}, `
          + `advertising ${formatEndpoint(e.advertised.host, e.advertised.port)} (${source})`, 'data');
      }
      case 'offer':
        return undefined; // the PORT/EPRT command line itself follows
      case 'connected':
        return status(e.mode === 'passive'
          ? `data connection established to ${formatEndpoint(e.remote.host, e.remote.port)}`
          : `data connection accepted from ${formatEndpoint(e.remote.host, e.remote.port)}`, 'data');
      case 'refused-peer':
        return status(`active mode: refused a data connection from ${e.peer}: only ${e.allowed} may connect, once`, 'data');
      default:
        return undefined;
    }
  }
}

function fallbackLine(e: FallbackEvent): TranscriptLine {
  if (e.reason === 'connection-failed') {
    return status(`the ${e.from} data connection failed (${e.error?.message}): retrying once in ${e.to} mode (fallback)`, 'data');
  }
  if (e.reason === 'unusable-reply') return status(`${e.from} reply is unusable (${e.error?.message}): falling back to ${e.to}`);
  if (e.from === 'MLSD') return status(`MLSD refused with ${e.replyCode}: using LIST`);
  return status(`${e.from} refused with ${e.replyCode}: falling back to ${e.to}`);
}

function dataTlsLine(e: DataTlsEvent): TranscriptLine {
  return status(e.resumed
    ? `data connection: TLS ${e.protocol} resumed the control connection's session`
    : `data connection: TLS ${e.protocol} did NOT resume the control session${e.sessionOffered ? ' (the server declined it)' : ' (no session to offer yet)'}; servers that require reuse will refuse it`, 'data');
}

function status(text: string, connection: 'control' | 'data' = 'control'): TranscriptLine {
  return { kind: 'status', text, connection };
}
