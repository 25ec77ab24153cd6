/**
 * Owns `ftpkit who`: GET /api/status of a server's admin listener (src/server/admin/) and the session list
 * as a table, as ftpwho prints it. Names and paths come from FTP clients: control characters are shown
 * escaped, so a user name cannot move the cursor or recolour the operator's terminal.
 */
import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { FtpUsageError } from '../errors.js';
import type { StatusDocument, StatusSession } from '../server/admin/status.js';
import { ExitCode } from './exit-codes.js';

export interface WhoFlags {
  admin?: string;
  token?: string;
  tokenFile?: string;
  json?: boolean;
  insecure?: boolean;
}

export const ADMIN_URL_ENV = 'FTPKIT_ADMIN_URL';
const DEFAULT_URL = 'http://127.0.0.1:8021/';
const TIMEOUT_MS = 10_000;

/** Control characters (C0, DEL, C1) as \xNN: what the terminal shows is what the client sent, harmlessly. */
export function safeText(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, c => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

function since(ms: number): string {
  const s = Math.floor(ms / 1000);
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function transferText(s: StatusSession): string {
  const t = s.transfer;
  if (!t) return '';
  const percent = t.size ? ` ${Math.min(100, Math.floor(((t.offset + t.bytes) / t.size) * 100))}%` : '';
  return `${t.direction} ${t.path}${percent} ${bytes(t.bytes)} at ${bytes(t.rate)}/s`;
}

/** The table: one line per session, columns padded to their widest value. */
export function whoTable(doc: StatusDocument, now = Date.parse(doc.now)): string {
  const header = ['ID', 'USER', 'ADDRESS', 'CONNECTED', 'STATE', 'TLS', 'COMMAND', 'TRANSFER'];
  const rows = doc.sessions.map(s => [
    s.id, s.user ?? '(login)', `${s.remoteAddress}:${s.remotePort}`, since(now - Date.parse(s.startedAt)),
    s.transfer ? 'busy' : `idle ${since(s.idleMs)}`, s.tls.control === 'protected' ? `yes/${s.tls.prot === 'P' ? 'P' : 'C'}` : 'no',
    s.lastCommand ?? '', transferText(s),
  ].map(safeText));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const t = doc.totals;
  const summary = `${t.sessions} session${t.sessions === 1 ? '' : 's'}, ${t.transfersRunning} transfer${t.transfersRunning === 1 ? '' : 's'} running`
    + `, ${doc.bans.length} ban${doc.bans.length === 1 ? '' : 's'}${doc.health === 'draining' ? ', server draining (shutting down)' : ''}`;
  return [line(header), ...rows.map(line), summary].join('\n') + '\n';
}

async function token(flags: WhoFlags): Promise<string | undefined> {
  if (flags.token !== undefined) return flags.token;
  if (flags.tokenFile !== undefined) {
    try { return (await readFile(flags.tokenFile, 'utf8')).trim(); } catch (err) {
      throw new FtpUsageError(`--token-file: cannot read ${flags.tokenFile}: ${(err as Error).message}`);
    }
  }
  return process.env.FTPKIT_ADMIN_TOKEN || undefined;
}

function get(url: URL, headers: Record<string, string>, insecure: boolean): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(url, { method: 'GET', headers, timeout: TIMEOUT_MS, ...(insecure ? { rejectUnauthorized: false } : {}) }, res => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS / 1000} s`)));
    req.on('error', reject);
    req.end();
  });
}

function fail(code: number, message: string): void {
  process.stderr.write(`ftpkit: ${message}\n`);
  process.exitCode = code;
}

export async function runWho(flags: WhoFlags): Promise<void> {
  const text = flags.admin ?? process.env[ADMIN_URL_ENV] ?? DEFAULT_URL;
  let base: URL;
  try {
    base = new URL(text);
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new Error('not http: or https:');
  } catch (err) {
    throw new FtpUsageError(`--admin: expected the admin listener's URL (http://HOST:PORT/), got ${JSON.stringify(text)}: ${(err as Error).message}`);
  }
  const secret = await token(flags);
  const url = new URL('api/status', base.href.endsWith('/') ? base : new URL(`${base.href}/`));
  let res: { status: number; body: string };
  try {
    res = await get(url, { Accept: 'application/json', ...(secret ? { Authorization: `Bearer ${secret}` } : {}) }, flags.insecure === true);
  } catch (err) {
    return fail(ExitCode.NetworkFailure, `cannot reach the admin listener at ${base.origin}: ${(err as Error).message}`);
  }
  if (res.status === 401) {
    return fail(ExitCode.LoginFailure, `the admin listener at ${base.origin} refused ${secret ? 'the token' : 'the request without a token (give $FTPKIT_ADMIN_TOKEN, --token-file or --token)'}`);
  }
  if (res.status !== 200) return fail(ExitCode.Other, `the admin listener at ${base.origin} answered HTTP ${res.status}`);
  let doc: StatusDocument;
  try { doc = JSON.parse(res.body) as StatusDocument; } catch {
    return fail(ExitCode.Other, `${url.origin} did not answer with a status document: is it an ftpkit admin listener?`);
  }
  process.stdout.write(flags.json ? `${JSON.stringify(doc, null, 2)}\n` : whoTable(doc));
}
