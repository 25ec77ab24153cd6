/**
 * Owns the Prometheus metrics of one FtpServer (`GET /metrics`, docs/server.md#metrics): one subscriber of
 * the server's events (like the JSON logger, src/server/log/), plus gauges read from the server when
 * scraped. No handler is instrumented.
 *
 * prom-client (pinned) writes the text format: escaping of label values, histogram buckets and the content
 * type are its job, and it is what Prometheus users know. Each server has its own Registry (never the
 * global one), so two servers in one process share nothing.
 *
 * Label values are bounded (docs/architecture.md#bound-every-input): verbs come from the command table
 * (anything else is "OTHER"), reply classes are 1xx-5xx, storage failures are the StorageFailure kinds.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { FtpServer } from '../ftp-server.js';
import { defaultCommandModules } from '../commands/index.js';
import type { CommandModule } from '../commands/contract.js';
import type { CommandEvent, SessionOpenEvent, TransferEvent, TransferFailedEvent, WarningEvent } from '../events.js';

const STORAGE_FAILURES = new Set(['not-found', 'exists', 'not-a-directory', 'is-a-directory', 'not-empty', 'permission',
  'invalid-name', 'no-space', 'quota', 'transient', 'not-supported', 'io']);

/** Transfer durations: from a small file on a LAN to a large one over a slow link. */
const DURATION_BUCKETS = [0.05, 0.25, 1, 5, 15, 60, 300, 1800];

function knownVerbs(modules: readonly CommandModule[]): Set<string> {
  const verbs = new Set<string>();
  for (const m of modules) for (const c of m.commands) for (const v of [c.verb, ...(c.aliases ?? [])]) verbs.add(v.toUpperCase());
  return verbs;
}

export interface ServerMetrics {
  readonly registry: Registry;
  /** The text format. */
  text(): Promise<string>;
  readonly contentType: string;
  /** Stop listening to the server's events. */
  detach(): void;
}

export function attachMetrics(server: FtpServer): ServerMetrics {
  const registry = new Registry();
  const verbs = knownVerbs([...defaultCommandModules, ...(server.security ? [server.security.module] : [])]);
  const implicitPort = (): number | undefined => server.implicitAddress()?.port;
  const metric = { registers: [registry] };

  new Gauge({ ...metric, name: 'ftpkit_sessions', help: 'Sessions open now.', collect() { this.set(server.sessionCount); } });
  new Gauge({ ...metric, name: 'ftpkit_transfers_running', help: 'Transfers running now.',
    collect() { this.set(server.sessions().filter(s => s.transfer).length); } });
  new Gauge({ ...metric, name: 'ftpkit_passive_ports_in_use', help: 'Passive data ports listened on now.',
    collect() { this.set(server.passivePortsInUse); } });
  new Gauge({ ...metric, name: 'ftpkit_bans_active', help: 'Bans in force now, by kind (address or user name).', labelNames: ['kind'],
    collect() {
      const bans = server.defender.bans();
      for (const kind of ['address', 'user']) this.set({ kind }, bans.filter(b => b.kind === kind).length);
    } });
  const sessionsOpened = new Counter({ ...metric, name: 'ftpkit_sessions_opened_total', help: 'Sessions accepted since start.' });
  const logins = new Counter({ ...metric, name: 'ftpkit_logins_total', help: 'Login attempts by result.', labelNames: ['result'] });
  const commands = new Counter({ ...metric, name: 'ftpkit_commands_total', help: 'Commands by verb and reply class (OTHER: a verb not in the command table).',
    labelNames: ['verb', 'class'] });
  const bytes = new Counter({ ...metric, name: 'ftpkit_transfer_bytes_total', help: 'Bytes moved over data connections by direction (completed and failed transfers).',
    labelNames: ['direction'] });
  const transfers = new Counter({ ...metric, name: 'ftpkit_transfers_total', help: 'Transfers by direction and result.', labelNames: ['direction', 'result'] });
  const durations = new Histogram({ ...metric, name: 'ftpkit_transfer_duration_seconds', help: 'Durations of completed transfers.',
    labelNames: ['direction'], buckets: DURATION_BUCKETS });
  const bans = new Counter({ ...metric, name: 'ftpkit_bans_total', help: 'Bans given since start, by kind.', labelNames: ['kind'] });
  const handshakes = new Counter({ ...metric, name: 'ftpkit_tls_handshakes_total', help: 'TLS handshakes of control connections by result.',
    labelNames: ['result'] });
  const storageErrors = new Counter({ ...metric, name: 'ftpkit_storage_errors_total', help: 'Transfers ended by a storage failure, by kind.',
    labelNames: ['kind'] });
  for (const result of ['ok', 'failed']) { logins.inc({ result }, 0); handshakes.inc({ result }, 0); }
  for (const direction of ['upload', 'download']) bytes.inc({ direction }, 0);

  // AUTH answered 234: the handshake follows. It succeeded when the session sends its next command; it
  // failed on the 'tls-handshake-failed' warning, or when the session closes first.
  const handshaking = new Set<string>();
  const settleHandshake = (sessionId: string, result: 'ok' | 'failed') => {
    if (handshaking.delete(sessionId)) handshakes.inc({ result });
  };

  const onOpen = (e: SessionOpenEvent) => {
    sessionsOpened.inc();
    // Implicit FTPS: the session exists only after its handshake succeeded (ftp-server.ts).
    if (implicitPort() !== undefined && e.localPort === implicitPort()) handshakes.inc({ result: 'ok' });
  };
  const onClose = (e: { sessionId: string }) => settleHandshake(e.sessionId, 'failed');
  const onLogin = () => logins.inc({ result: 'ok' });
  const onLoginFailed = () => logins.inc({ result: 'failed' });
  const onCommand = (e: CommandEvent) => {
    settleHandshake(e.sessionId, 'ok');
    const verb = e.verb.toUpperCase();
    commands.inc({ verb: verbs.has(verb) ? verb : 'OTHER', class: `${Math.floor(e.replyCode / 100)}xx` });
    if (verb === 'AUTH' && e.replyCode === 234) handshaking.add(e.sessionId);
  };
  const onTransfer = (direction: 'upload' | 'download') => (e: TransferEvent) => {
    bytes.inc({ direction }, e.bytes);
    transfers.inc({ direction, result: 'ok' });
    durations.observe({ direction }, e.durationMs / 1000);
  };
  const onUpload = onTransfer('upload');
  const onDownload = onTransfer('download');
  const onFailed = (e: TransferFailedEvent) => {
    if (e.direction !== 'list') bytes.inc({ direction: e.direction }, e.bytes);
    transfers.inc({ direction: e.direction, result: 'failed' });
    const kind = /^storage error: (.+)$/.exec(e.reason)?.[1];
    if (kind !== undefined) storageErrors.inc({ kind: STORAGE_FAILURES.has(kind) ? kind : 'other' });
  };
  const onWarning = (e: WarningEvent) => {
    if (e.code !== 'tls-handshake-failed') return;
    if (e.sessionId !== undefined && handshaking.has(e.sessionId)) settleHandshake(e.sessionId, 'failed');
    else if (e.sessionId === undefined) handshakes.inc({ result: 'failed' }); // implicit FTPS, before any session
  };
  const onBan = (e: { kind: 'address' | 'user' }) => bans.inc({ kind: e.kind });

  server.on('session-open', onOpen);
  server.on('session-close', onClose);
  server.on('login', onLogin);
  server.on('login-failed', onLoginFailed);
  server.on('command', onCommand);
  server.on('upload', onUpload);
  server.on('download', onDownload);
  server.on('transfer-failed', onFailed);
  server.on('warning', onWarning);
  server.on('ban', onBan);
  return {
    registry,
    contentType: registry.contentType,
    text: () => registry.metrics(),
    detach() {
      server.off('session-open', onOpen);
      server.off('session-close', onClose);
      server.off('login', onLogin);
      server.off('login-failed', onLoginFailed);
      server.off('command', onCommand);
      server.off('upload', onUpload);
      server.off('download', onDownload);
      server.off('transfer-failed', onFailed);
      server.off('warning', onWarning);
      server.off('ban', onBan);
    },
  };
}
