/**
 * Where the client's structured events go: one `publish` that emits the typed event on the FtpClient,
 * publishes it on its node:diagnostics_channel channel (free while nobody subscribes, as in undici's
 * lib/core/diagnostics.js), and hands it to the transcript, which is one more subscriber (transcript.ts).
 *
 * The channel names are public API (docs/client.md, "Events"); each message is `{ client, event }`.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import type { EventEmitter } from 'node:events';
import type { FtpResponse } from '../protocol/reply-parser.js';
import type {
  DataChannelEvent, DataTlsEvent, FallbackEvent, FtpClientEvents, ProgressEvent, UnparsedListingEvent,
} from './events.js';
import { TranscriptFormatter, type TranscribedEvents } from './transcript.js';

/** node:diagnostics_channel names of the client's structured events. */
export const clientChannels = {
  command: 'ftpkit:client:command',
  reply: 'ftpkit:client:reply',
  dataChannel: 'ftpkit:client:data-channel',
  fallback: 'ftpkit:client:fallback',
  dataTls: 'ftpkit:client:data-tls',
} as const satisfies Record<keyof TranscribedEvents, string>;

/** What a diagnostics_channel subscriber receives: the event and the FtpClient that published it. */
export interface ClientChannelMessage<E> {
  client: EventEmitter<FtpClientEvents>;
  event: E;
}

const channels = Object.fromEntries(Object.entries(clientChannels)
  .map(([name, channel]) => [name, diagnosticsChannel.channel(channel)])) as Record<keyof TranscribedEvents, diagnosticsChannel.Channel>;

type WithoutTime<E> = E extends unknown ? Omit<E, 'time'> : never;

export class ClientEventPublisher {
  private readonly transcript = new TranscriptFormatter();

  constructor(private readonly client: EventEmitter<FtpClientEvents>) {}

  /** A new connection: the transcript says again what it says once per session. */
  newSession(): void {
    this.transcript.reset();
  }

  /** A command line written (already masked by the control connection). */
  command(masked: string): void {
    this.publish('command', { command: masked, time: new Date() });
  }

  reply(reply: FtpResponse, answers: string | undefined): void {
    this.publish('reply', { code: reply.code, text: reply.message, lines: reply.lines, command: answers, time: new Date() });
  }

  dataChannel(event: WithoutTime<DataChannelEvent>): void {
    this.publish('dataChannel', { ...event, time: new Date() } as DataChannelEvent);
  }

  fallback(event: Omit<FallbackEvent, 'time'>): void {
    this.publish('fallback', { ...event, time: new Date() });
  }

  dataTls(event: Omit<DataTlsEvent, 'time'>): void {
    this.publish('dataTls', { ...event, time: new Date() });
  }

  /** LIST lines left out of a listing because no parser understood them (events.ts UnparsedListingEvent). */
  unparsedListing(event: Omit<UnparsedListingEvent, 'time'>): void {
    this.client.emit('unparsedListing', { ...event, time: new Date() });
  }

  /** A decision that is only words: a transcript line, no structured event. */
  status(text: string, connection: 'control' | 'data' = 'control'): void {
    this.client.emit('transcript', { kind: 'status', text, connection, time: new Date() });
  }

  progress(event: ProgressEvent): void {
    this.client.emit('progress', event);
  }

  /** Whether anyone listens to 'progress' (a download asks SIZE for the total only then). */
  get wantsProgress(): boolean {
    return this.client.listenerCount('progress') > 0;
  }

  private publish<K extends keyof TranscribedEvents>(name: K, event: TranscribedEvents[K][0]): void {
    (this.client.emit as (n: K, e: TranscribedEvents[K][0]) => boolean)(name, event);
    const channel = channels[name];
    if (channel.hasSubscribers) channel.publish({ client: this.client, event } satisfies ClientChannelMessage<typeof event>);
    const line = this.transcript.lineFor(name, event);
    if (line) this.client.emit('transcript', { ...line, time: event.time });
  }
}
