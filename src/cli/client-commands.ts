/**
 * The client commands of the CLI: `ftpkit ls | get | put | rm | mkdir | rmdir | mv | mirror | raw`.
 * Thin: parse argv -> FtpClient / tree operations -> print -> exit code. Source before destination,
 * like cp and scp: `get URL [LOCAL]`, `put LOCAL URL`, `mirror URL LOCALDIR`, `mirror --reverse LOCALDIR URL`.
 */
import { Command, Option } from 'commander';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { FtpClient } from '../client/ftp-client.js';
import { mirror, type CompareMode, type MirrorResult, type TreeEvent } from '../client/tree/index.js';
import { FtpClosedError, FtpNetworkError, FtpReplyError, FtpUsageError } from '../errors.js';
import type { FileEntry } from '../protocol/listing-types.js';
import { buildClientOptions, maxTimeMs, type ClientFlags } from './client-options.js';
import { errorJson, escapeControls, formatTranscript, humanBytes, ProgressDisplay } from './client-output.js';
import { exitCodeFor, ExitCode } from './exit-codes.js';
import { isFtpUrl, parseFtpUrl, redactUrl, remoteBaseName, type FtpUrl } from './url.js';
import { promptHidden } from './prompt.js';

interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

interface RunContext {
  url: FtpUrl;
  flags: ClientFlags;
  client: FtpClient;
  /** Opens another logged-in connection with the same settings (parallel transfers). */
  connect(): Promise<FtpClient>;
  io: Io;
  /** Print for humans (suppressed with --json). */
  say(line: string): void;
}

type TreeFlags = ClientFlags & { parallel?: string; delete?: boolean; dryRun?: boolean; recursive?: boolean; sizeOnly?: boolean };

function addClientFlags(cmd: Command): Command {
  return cmd
    .option('--active', 'active mode: the server connects back to us (PORT/EPRT)')
    .option('--passive', 'passive mode: we connect to the server (PASV/EPSV); the default')
    .option('--port-range <low-high>', 'active mode: listen on a port of this range (e.g. 50000-50010)')
    .option('--port-address <ip>', 'active mode: address to advertise in PORT/EPRT (public IP behind NAT)')
    .option('--bind-address <ip>', 'active mode: local address to listen on')
    .option('--no-epsv', 'passive mode: PASV only (never EPSV)')
    .option('--epsv-only', 'passive mode: EPSV only (never PASV)')
    .option('--no-eprt', 'active mode: PORT only (never EPRT)')
    .addOption(new Option('--pasv-host <policy>', 'address for PASV data connections: the control host\'s (default), the reply\'s, or auto (the reply\'s unless unroutable)')
      .choices(['reply', 'control', 'auto']))
    .option('--fallback', 'if the data connection fails, retry once in the other mode')
    .option('--ascii', 'TYPE A transfers (line ends converted)')
    .option('--binary', 'TYPE I transfers (byte exact; the default)')
    .option('--connect-timeout <seconds>', 'control connection and greeting timeout')
    .option('--speed-limit <bytes>', 'fail a transfer slower than this many bytes/s over --speed-time (0: off; without either flag: 10 B/s over 60 s)')
    .option('--speed-time <seconds>', 'the window for --speed-limit in seconds (30 when only --speed-limit is given; given alone, the limit is 1 B/s)')
    .option('--max-time <seconds>', 'the longest the whole command may take (default: no limit)')
    .option('--timeout <seconds>', 'reply and data connection timeout')
    .option('--tls', 'explicit TLS (AUTH TLS, RFC 4217)')
    .option('--tls-required', 'explicit TLS, never cleartext')
    .option('--ca <file>', 'trust this CA certificate (PEM)')
    .option('--insecure', 'do not verify the server certificate (encrypts, but anyone can pretend to be the server)')
    .option('--cert <file>', 'client certificate (PEM)')
    .option('--key <file>', 'client certificate key (PEM)')
    .option('--settings <file>', 'JSON client settings, or the output of `ftpkit doctor --json` (flags override it)')
    .option('-u, --user <name>', 'user name (overrides the URL)')
    .option('--no-netrc', 'do not read ~/.netrc')
    .option('-v, --verbose', 'print the protocol transcript (Status/Command/Response) on stderr')
    .option('--json', 'print a machine-readable result on stdout')
    .addHelpText('after', CLIENT_HELP_FOOTER);
}

const CLIENT_HELP_FOOTER = `
URL: ftp://[user[:password]@]host[:port]/path (ftps:// = implicit TLS, port 990); the path is relative to the
login folder, a trailing "/" names a folder. Password: the URL, $FTPKIT_PASSWORD, ~/.netrc, else a prompt.

Exit codes: 0 ok, 2 usage, 3 login refused, 4 the server refused (4xx/5xx), 5 network (refused, timed out,
unreachable), 6 TLS, 1 other, 130 interrupted. Reference: docs/client.md.`;

function defaultIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr };
}

/** Connect, run, print, set the exit code. Never throws. */
async function runWithClient(urlText: string, flags: ClientFlags, io: Io,
  fn: (ctx: RunContext) => Promise<Record<string, unknown>>): Promise<void> {
  const clients: FtpClient[] = [];
  let duringLogin = false;
  const progress = new ProgressDisplay(io.stderr as never, !flags.json && !flags.verbose);
  // Ctrl-C / SIGTERM: destroy the connections so the running operation fails through its own cleanup (a
  // download's temporary file is removed) instead of the process dying with a stray .ftpkit-part file.
  // A second signal exits at once.
  let interrupted: NodeJS.Signals | undefined;
  let credentialSource: string | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    // Nothing to clean up yet (still reading options or prompting): exit like a process without handlers.
    if (interrupted || clients.length === 0) process.exit(signalExitCode(signal));
    interrupted = signal;
    for (const c of clients) c.destroy();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // --max-time (curl's name): the whole command, connect to last reply. When it runs out the connections are
  // destroyed like on Ctrl-C, so a download's temporary file is removed, and the command fails with this error.
  let deadline: FtpNetworkError | undefined;
  let deadlineTimer: NodeJS.Timeout | undefined;
  try {
    const url = parseFtpUrl(urlText);
    const prompt = process.stdin.isTTY && io.stderr.isTTY ? (q: string) => promptHidden(q, io.stderr) : undefined;
    const built = await buildClientOptions(url, flags, { env: process.env, prompt });
    credentialSource = built.credentialSource;
    const limitMs = maxTimeMs(flags);
    if (limitMs !== undefined) {
      const started = performance.now();
      deadlineTimer = setTimeout(() => {
        deadline = new FtpNetworkError({ connection: 'control', phase: 'command', failure: 'timeout',
          elapsedMs: performance.now() - started, message: `the command took longer than --max-time ${flags.maxTime} s` });
        for (const c of clients) c.destroy();
      }, limitMs);
    }
    const open = async (label: string): Promise<FtpClient> => {
      if (interrupted) throw new FtpClosedError(`interrupted (${interrupted})`);
      if (deadline) throw deadline;
      const c = new FtpClient(built.options);
      clients.push(c);
      if (flags.verbose) {
        c.on('transcript', e => io.stderr.write(`${label}${formatTranscript(e)}\n`));
        const text = `password source: ${built.credentialSource}`;
        io.stderr.write(`${label}${formatTranscript({ kind: 'status', text, connection: 'control', time: new Date() })}\n`);
      }
      c.on('progress', e => progress.update(e));
      await c.connect();
      return c;
    };
    duringLogin = true;
    const client = await open('');
    duringLogin = false;
    let n = 0;
    const result = await fn({
      url, flags, client, io,
      connect: () => open(`[${++n}] `),
      // Every human line carries names or text from the server: escaped for the terminal (--json keeps them exact).
      say: line => { if (!flags.json) progress.print(escapeControls(line), io.stdout); },
    });
    progress.stop();
    // A tree operation outlives its destroyed connections (each remaining action fails): still an interruption.
    if (interrupted) throw new FtpClosedError(`interrupted (${interrupted})`);
    if (deadline) throw deadline;
    const failed = typeof result.exitCode === 'number' && result.exitCode !== 0;
    if (flags.json) io.stdout.write(`${JSON.stringify({ ok: !failed, url: redactUrl(url), ...result })}\n`);
    await Promise.all(clients.map(c => c.close().catch(() => undefined)));
    if (failed) process.exitCode = result.exitCode as number;
  } catch (caught) {
    const err = deadline ?? caught;
    progress.stop();
    for (const c of clients) c.destroy();
    if (interrupted) {
      const code = signalExitCode(interrupted);
      if (flags.json) io.stdout.write(`${JSON.stringify({ ok: false, exitCode: code, error: { message: `interrupted (${interrupted})` } })}\n`);
      io.stderr.write(`ftpkit: interrupted (${interrupted})\n`);
      process.exitCode = code;
      return;
    }
    const code = exitCodeFor(err, duringLogin);
    if (flags.json) io.stdout.write(`${JSON.stringify({ ok: false, exitCode: code, error: errorJson(err) })}\n`);
    // No password from any source and no terminal to ask on: an empty PASS was sent; say where one can come from.
    const noPassword = credentialSource === 'none'
      ? '; no password was given: put it in $FTPKIT_PASSWORD or ~/.netrc (or the URL), or run on a terminal to be asked' : '';
    io.stderr.write(`ftpkit: ${escapeControls((err as Error)?.message ?? String(err))}${code === ExitCode.LoginFailure ? ` (login refused${noPassword})` : ''}\n`);
    process.exitCode = code;
  } finally {
    clearTimeout(deadlineTimer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** 128 + the signal number, as shells report a process ended by it (130 for SIGINT, 143 for SIGTERM). */
function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (signal === 'SIGTERM' ? 15 : 2);
}

function parallelOf(flags: TreeFlags): number {
  if (flags.parallel === undefined) return 1;
  const n = Number(flags.parallel);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new FtpUsageError(`--parallel needs a number from 1 to 64, got ${flags.parallel}`);
  return n;
}

function treeEventPrinter(ctx: RunContext): (e: TreeEvent) => void {
  return e => {
    switch (e.type) {
      case 'refused':
        ctx.io.stderr.write(`ftpkit: refused ${e.side} name ${escapeControls(JSON.stringify(e.name))} in ${escapeControls(e.dir)}: ${e.reason}\n`);
        break;
      case 'skipped-entry':
        if (ctx.flags.verbose) ctx.io.stderr.write(`Status:\tskipped ${escapeControls(e.rel)}: ${escapeControls(e.reason)}\n`);
        break;
      case 'action-failed':
        ctx.io.stderr.write(`ftpkit: ${e.action.kind} ${escapeControls(e.action.rel)} failed: ${escapeControls(e.error.message)}\n`);
        break;
      case 'connection-failed':
        ctx.io.stderr.write(`ftpkit: parallel connection ${e.worker} failed (${escapeControls(e.error.message)}); continuing with fewer\n`);
        break;
      case 'mtime-not-set':
        if (ctx.flags.verbose) ctx.io.stderr.write(`Status:\tcannot set remote modification times (${escapeControls(e.error.message)})\n`);
        break;
      case 'action-done':
        if (e.action.kind !== 'skip') ctx.say(`${e.action.kind} ${e.action.rel}`);
        break;
      default:
    }
  };
}

function treeResultJson(r: MirrorResult): Record<string, unknown> {
  return {
    dryRun: r.dryRun, transferred: r.transferred, skipped: r.skipped, deleted: r.deleted, created: r.created,
    bytes: r.bytes, refused: r.refused,
    actions: r.actions,
    failures: r.failures.map(f => ({ action: f.action, error: errorJson(f.error) })),
    // A tree operation with failed actions is not a success; the exit code says why the first one failed.
    exitCode: r.failures.length ? exitCodeFor(r.failures[0].error) : 0,
  };
}

async function runTree(ctx: RunContext, direction: 'download' | 'upload', remoteDir: string, localDir: string,
  flags: TreeFlags, compare: CompareMode): Promise<Record<string, unknown>> {
  const r = await mirror(ctx.client, {
    direction, remoteDir, localDir, compare, delete: !!flags.delete, dryRun: !!flags.dryRun,
    parallel: parallelOf(flags), connect: () => ctx.connect(), onEvent: treeEventPrinter(ctx),
  });
  if (r.dryRun) for (const a of r.actions) if (a.kind !== 'skip') ctx.say(`would ${a.kind} ${a.rel} (${a.reason})`);
  ctx.say(`${r.dryRun ? 'dry run: ' : ''}${r.transferred} transferred (${humanBytes(r.bytes)}), ${r.skipped} unchanged, `
    + `${r.created} folders created, ${r.deleted} deleted, ${r.failures.length} failed`);
  return treeResultJson(r);
}

function longLine(e: FileEntry): string {
  const type = e.type === 'dir' ? 'd' : e.type === 'link' ? 'l' : e.type === 'file' ? '-' : '?';
  const size = e.size !== undefined ? String(e.size) : '-';
  const date = e.modifiedAt ? e.modifiedAt.toISOString().slice(0, 16).replace('T', ' ') : '-'.padEnd(16);
  return `${type} ${size.padStart(12)} ${date} ${e.name}${e.linkTarget ? ` -> ${e.linkTarget}` : ''}`;
}

async function isDirectory(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isDirectory() ?? false;
}

function remotePathOf(url: FtpUrl): string {
  return url.path === '' ? '.' : url.path;
}

export function registerClientCommands(program: Command, io: Io = defaultIo()): void {
  addClientFlags(program.command('ls')
    .description('list a remote folder')
    .argument('<url>', 'ftp://[user[:password]@]host[:port]/path')
    .option('-l, --long', 'type, size, date and name')
  ).action(async (urlText: string, flags: ClientFlags & { long?: boolean }) => {
    await runWithClient(urlText, flags, io, async ctx => {
      let entries: FileEntry[];
      try {
        entries = await ctx.client.list(ctx.url.path || undefined);
      } catch (e) {
        // `ls URL/file`: MLSD answers 501 for a file (RFC 3659 s7.2.1) where LIST would list it; like ls(1),
        // show that one entry (MLST) instead of failing.
        if (!(e instanceof FtpReplyError) || e.replyCode !== 501 || !ctx.url.path || ctx.url.isDir) throw e;
        const one = await ctx.client.stat(ctx.url.path).catch(() => undefined);
        if (!one || one.type === 'dir') throw e;
        entries = [one];
      }
      for (const e of entries) ctx.say(flags.long ? longLine(e) : `${e.name}${e.type === 'dir' ? '/' : ''}`);
      return { entries: entries.map(({ raw: _raw, ...e }) => e) };
    });
  });

  addClientFlags(program.command('get')
    .description('download a file (or a folder with -r) to LOCAL (default: the remote name; "-" for stdout)')
    .argument('<url>').argument('[local]')
    .option('-r, --recursive', 'download a whole folder')
    .option('--resume', 'continue a partial local file (REST)')
    .option('--parallel <n>', 'connections for a recursive download')
  ).action(async (urlText: string, local: string | undefined, flags: TreeFlags & { resume?: boolean }) => {
    await runWithClient(urlText, flags, io, async ctx => {
      const name = remoteBaseName(ctx.url.path);
      // Like put and scp: a folder is copied only when asked (-r); a trailing "/" alone must not start a
      // download of a whole server tree into the current folder.
      if (ctx.url.isDir && !flags.recursive) throw new FtpUsageError('the URL names a folder: use -r to download it, or ls to list it');
      if (flags.recursive) {
        const target = local ?? (name || '.');
        return runTree(ctx, 'download', remotePathOf(ctx.url), target, flags, 'always');
      }
      if (!name) throw new FtpUsageError('the URL names no file (use -r for a folder)');
      if (local === '-') {
        const r = await ctx.client.download(ctx.url.path, process.stdout, { end: false });
        return { bytes: r.bytes, destination: '-' };
      }
      let dest = local ?? name;
      if (await isDirectory(dest)) dest = path.join(dest, name);
      // LOCAL "dir/" names a folder, like cp; a missing folder is the user's to fix, said before any transfer
      // (not as a failed rename of a temporary file after downloading everything).
      else if (/[\\/]$/.test(dest)) throw new FtpUsageError(`${dest}: no such local folder`);
      else if (!await isDirectory(path.dirname(path.resolve(dest)))) throw new FtpUsageError(`${path.dirname(dest)}: no such local folder`);
      const r = await ctx.client.download(ctx.url.path, dest, { resume: !!flags.resume });
      ctx.say(`${ctx.url.path} -> ${dest}: ${humanBytes(r.bytes)}${r.startOffset ? ` (resumed at ${r.startOffset})` : ''}`);
      return { bytes: r.bytes, startOffset: r.startOffset, destination: dest, mode: r.mode };
    });
  });

  addClientFlags(program.command('put')
    .description('upload LOCAL ("-" for stdin) to the URL (a URL ending in "/" keeps the local name)')
    .argument('<local>').argument('<url>')
    .option('-r, --recursive', 'upload a whole folder')
    .option('--resume', 'continue a partial remote file (SIZE + APPE)')
    .option('--append', 'append to the remote file (APPE)')
    .option('--parallel <n>', 'connections for a recursive upload')
  ).action(async (local: string, urlText: string, flags: TreeFlags & { resume?: boolean; append?: boolean }) => {
    await runWithClient(urlText, flags, io, async ctx => {
      if (local !== '-' && !await stat(local).catch(() => undefined)) throw new FtpUsageError(`${local}: no such local file or folder`);
      const localIsDir = local !== '-' && await isDirectory(local);
      if (localIsDir) {
        if (!flags.recursive) throw new FtpUsageError(`${local} is a folder: use -r`);
        // Like scp -r: a URL ending in "/" receives the folder under its own name.
        const base = path.basename(path.resolve(local));
        const remote = ctx.url.isDir ? (ctx.url.path ? `${ctx.url.path}/${base}` : base) : ctx.url.path;
        return runTree(ctx, 'upload', remote, local, flags, 'always');
      }
      let remote = ctx.url.path;
      if (ctx.url.isDir) {
        if (local === '-') throw new FtpUsageError('uploading stdin needs a file name in the URL');
        remote = remote ? `${remote}/${path.basename(local)}` : path.basename(local);
      }
      const source = local === '-' ? process.stdin : local;
      const r = await ctx.client.upload(source, remote, { resume: !!flags.resume, append: !!flags.append });
      ctx.say(`${local} -> ${remote}: ${humanBytes(r.bytes)}${r.startOffset ? ` (resumed at ${r.startOffset})` : ''}`);
      return { bytes: r.bytes, startOffset: r.startOffset, remotePath: remote, mode: r.mode };
    });
  });

  addClientFlags(program.command('rm')
    .description('delete a remote file (or a folder with -r)')
    .argument('<url>')
    .option('-r, --recursive', 'delete a folder and everything in it')
  ).action(async (urlText: string, flags: ClientFlags & { recursive?: boolean }) => {
    await runWithClient(urlText, flags, io, async ctx => {
      if (!ctx.url.path) throw new FtpUsageError('the URL names nothing to delete');
      if (flags.recursive) await ctx.client.rmdir(ctx.url.path, { recursive: true });
      else await ctx.client.delete(ctx.url.path);
      ctx.say(`deleted ${ctx.url.path}`);
      return { deleted: ctx.url.path };
    });
  });

  addClientFlags(program.command('mkdir')
    .description('create a remote folder')
    .argument('<url>')
    .option('-p, --parents', 'create missing parent folders too')
  ).action(async (urlText: string, flags: ClientFlags & { parents?: boolean }) => {
    await runWithClient(urlText, flags, io, async ctx => {
      if (!ctx.url.path) throw new FtpUsageError('the URL names no folder');
      await ctx.client.mkdir(ctx.url.path, { recursive: !!flags.parents });
      ctx.say(`created ${ctx.url.path}`);
      return { created: ctx.url.path };
    });
  });

  addClientFlags(program.command('rmdir')
    .description('remove a remote folder (empty, or with -r everything in it)')
    .argument('<url>')
    .option('-r, --recursive', 'remove the content too')
  ).action(async (urlText: string, flags: ClientFlags & { recursive?: boolean }) => {
    await runWithClient(urlText, flags, io, async ctx => {
      if (!ctx.url.path) throw new FtpUsageError('the URL names no folder');
      await ctx.client.rmdir(ctx.url.path, { recursive: !!flags.recursive });
      ctx.say(`removed ${ctx.url.path}`);
      return { removed: ctx.url.path };
    });
  });

  addClientFlags(program.command('mv')
    .description('rename a remote file or folder; TO without "/" is a new name in the same folder')
    .argument('<url>').argument('<to>', 'new name, a path, or a URL on the same server')
  ).action(async (urlText: string, to: string, flags: ClientFlags) => {
    await runWithClient(urlText, flags, io, async ctx => {
      if (!ctx.url.path) throw new FtpUsageError('the URL names nothing to rename');
      let target: string;
      if (isFtpUrl(to)) {
        const t = parseFtpUrl(to);
        if (t.host !== ctx.url.host || t.port !== ctx.url.port) throw new FtpUsageError('mv works within one server');
        target = t.path;
      } else if (!to.includes('/')) {
        const dir = ctx.url.path.includes('/') ? ctx.url.path.slice(0, ctx.url.path.lastIndexOf('/') + 1) : '';
        target = dir + to;
      } else target = to;
      if (/[\r\n\0]/.test(target)) throw new FtpUsageError('the new name contains CR, LF or NUL');
      await ctx.client.rename(ctx.url.path, target);
      ctx.say(`${ctx.url.path} -> ${target}`);
      return { from: ctx.url.path, to: target };
    });
  });

  addClientFlags(program.command('mirror')
    .description('one-way sync by size and time: `mirror URL LOCALDIR` (download) or `mirror LOCALDIR URL` / `mirror --reverse LOCALDIR URL` (upload)')
    .argument('<source>').argument('<destination>')
    .option('-R, --reverse', 'upload: the source is the local folder')
    .option('--delete', 'delete destination files and folders that the source does not have')
    .option('--parallel <n>', 'transfer on this many connections (default 1)')
    .option('-n, --dry-run', 'print what would be done, do nothing')
    .option('--size-only', 'compare sizes only, not times (LIST-only servers listing in another time zone)')
  ).action(async (src: string, dst: string, flags: TreeFlags & { reverse?: boolean }) => {
    const srcUrl = isFtpUrl(src);
    const dstUrl = isFtpUrl(dst);
    if (srcUrl === dstUrl || (flags.reverse && srcUrl)) {
      const msg = srcUrl === dstUrl
        ? 'mirror needs exactly one ftp:// URL: `mirror URL LOCALDIR` or `mirror LOCALDIR URL`'
        : '--reverse means `mirror --reverse LOCALDIR URL`';
      io.stderr.write(`ftpkit: ${msg}\n`);
      if (flags.json) io.stdout.write(`${JSON.stringify({ ok: false, exitCode: ExitCode.Usage, error: { message: msg } })}\n`);
      process.exitCode = ExitCode.Usage;
      return;
    }
    const upload = !srcUrl;
    await runWithClient(upload ? dst : src, flags, io, ctx =>
      runTree(ctx, upload ? 'upload' : 'download', remotePathOf(ctx.url), upload ? src : dst, flags, flags.sizeOnly ? 'size' : 'newer'));
  });

  addClientFlags(program.command('raw')
    .description('send raw commands after login and print the replies (e.g. "SITE CHMOD 644 f" "STAT")')
    .argument('<url>').argument('<commands...>')
  ).action(async (urlText: string, commands: string[], flags: ClientFlags) => {
    await runWithClient(urlText, flags, io, async ctx => {
      const replies = [];
      for (const command of commands) {
        const r = await ctx.client.send(command);
        replies.push({ command: /^(PASS|ACCT)\b/i.test(command) ? `${command.slice(0, 4)} ****` : command, code: r.code, lines: r.lines });
        for (const l of r.lines) ctx.say(l);
        // Raw commands go through as given; a refusal still sets the exit code (4) so scripts notice.
        if (r.code >= 400) {
          return { replies, exitCode: exitCodeFor(new FtpReplyError(r.code, r.message, command)) };
        }
      }
      return { replies };
    });
  });
}
