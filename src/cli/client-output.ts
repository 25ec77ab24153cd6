/**
 * What the client CLI prints: the FileZilla-style transcript on stderr (-v), progress bars on a terminal
 * (cli-progress) or a plain progress line otherwise (stderr) and `--json` results on stdout (exit codes: exit-codes.ts). Library code emits events; only this module writes to the terminal.
 */
import type cliProgress from 'cli-progress';
import { createRequire } from 'node:module';
import type { Writable } from 'node:stream';
import type { ProgressEvent, TranscriptEvent } from '../client/events.js';
import type { ClientFlags } from './client-options.js';
import { inCliTerms } from './library-terms.js';
import { FtpFxpRefusedError, FtpVerifyError } from '../errors.js';

/**
 * Characters a terminal may act on instead of showing: C0 controls (ESC starts escape sequences that can
 * rewrite the screen or the window title, BEL rings, NUL and CR hide what precedes them), DEL, C1 controls
 * (U+009B is a one-character CSI on some terminals), the Unicode line/paragraph separators, and the bidi
 * controls that reorder what is shown (Trojan Source, CVE-2021-42574).
 */
const TERMINAL_UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED_ESCAPES: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r', '\u001b': '\\e' };

/**
 * Text from a server (names, reply text) made safe to print on a terminal, in the style of GNU ls's
 * --quoting-style=escape: \t \n \r and \e by name, other controls as \xHH (below U+0100) or \uHHHH.
 * Human output only: --json keeps the exact names. A name that itself contains "\e" prints the same as one
 * with ESC; --json tells them apart.
 */
export function escapeControls(text: string): string {
  return text.replace(TERMINAL_UNSAFE, ch => NAMED_ESCAPES[ch]
    ?? (ch.charCodeAt(0) < 0x100 ? `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}` : `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

/** "Status: ...", "Command: ...", "Response: ..." as FileZilla shows them (PASS already masked by the client). */
export function formatTranscript(e: TranscriptEvent): string {
  const label = e.kind === 'command' ? 'Command' : e.kind === 'response' ? 'Response' : 'Status';
  const time = e.time.toISOString().slice(11, 23);
  const data = e.connection === 'data' && e.kind === 'status' ? '[data] ' : '';
  return `${time} ${label}:\t${data}${escapeControls(e.text)}`;
}

export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** A JSON-friendly description of an error (for --json); the message in CLI terms, `key` as the library's. */
export function errorJson(err: unknown, flags?: ClientFlags): Record<string, unknown> {
  const e = err as Error & Record<string, unknown>;
  const out: Record<string, unknown> = { name: e?.name ?? 'Error', message: inCliTerms(e?.message ?? String(err), flags) };
  // What a failed --verify found (FtpVerifyError), which server refused FXP (FtpFxpRefusedError).
  const extra = e instanceof FtpVerifyError ? ['reason', 'method', 'expected', 'actual'] : e instanceof FtpFxpRefusedError ? ['side', 'server'] : [];
  for (const k of ['code', 'replyCode', 'replyText', 'command', 'connection', 'phase', 'failure', 'endpoint', 'elapsedMs', 'key', ...extra]) {
    if (e && e[k] !== undefined) out[k] = e[k];
  }
  return out;
}

/**
 * Progress display: one bar per transfer on a terminal; otherwise a plain line per transfer, updated at
 * most every few seconds, then a final line (log files stay readable).
 */
export class ProgressDisplay {
  private bars: cliProgress.MultiBar | undefined;
  private readonly active = new Map<string, cliProgress.SingleBar>();
  private readonly lastPlain = new Map<string, number>();

  constructor(private readonly out: Writable & { isTTY?: boolean }, private readonly enabled: boolean) {
    if (enabled && out.isTTY) {
      // Loaded only for a terminal: redirected and --json runs never draw bars (CLI start-up, issue 10).
      const lib = createRequire(import.meta.url)('cli-progress') as typeof cliProgress;
      this.bars = new lib.MultiBar({
        stream: out as NodeJS.WriteStream,
        format: ' {bar} {percentage}% | {value_h}/{total_h} | {rate} | ETA {eta_h} | {name}',
        hideCursor: true, clearOnComplete: false, autopadding: true,
      }, lib.Presets.shades_classic);
    }
  }

  update(e: ProgressEvent): void {
    if (!this.enabled || e.direction === 'list') return;
    const key = `${e.direction}:${e.path}`;
    const done = e.startOffset + e.bytes;
    const rate = `${humanBytes(Math.round(e.bytesPerSecond))}/s`;
    if (this.bars) {
      let bar = this.active.get(key);
      const total = e.total ?? Math.max(done, 1);
      const payload = {
        name: escapeControls(e.path), rate, value_h: humanBytes(done), total_h: e.total !== undefined ? humanBytes(e.total) : '?',
        eta_h: e.done ? '0s' : e.etaSeconds !== undefined ? formatEta(e.etaSeconds) : '?',
      };
      if (!bar) { bar = this.bars.create(total, done, payload); this.active.set(key, bar); }
      bar.setTotal(total);
      bar.update(done, payload);
      if (e.done) { bar.stop(); this.active.delete(key); }
      return;
    }
    const now = Date.now();
    const last = this.lastPlain.get(key) ?? 0;
    if (!e.done && now - last < 2000) return;
    this.lastPlain.set(key, now);
    const pct = e.total ? ` ${Math.floor((done / e.total) * 100)}%` : '';
    const eta = e.etaSeconds !== undefined && !e.done ? ` ETA ${Math.ceil(e.etaSeconds)}s` : '';
    this.out.write(`${e.direction} ${escapeControls(e.path)}: ${humanBytes(done)}${e.total !== undefined ? `/${humanBytes(e.total)}` : ''}${pct} ${rate}${eta}${e.done ? ' done' : ''}\n`);
    if (e.done) this.lastPlain.delete(key);
  }

  /**
   * Print a result line on stdout. While bars are drawn on the same terminal, a direct write would be
   * overwritten by the next redraw (the bars move the cursor up over it): the line goes above the bars.
   */
  print(line: string, stdout: NodeJS.WritableStream & { isTTY?: boolean }): void {
    if (this.bars?.isActive && stdout.isTTY) {
      this.bars.log(`${line}\n`);
      this.bars.update();
      return;
    }
    stdout.write(`${line}\n`);
  }

  stop(): void {
    this.bars?.stop();
    this.active.clear();
  }
}

/** Seconds left for a progress bar: "42s", "3m05s", "1h02m". */
export function formatEta(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
