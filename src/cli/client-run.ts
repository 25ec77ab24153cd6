/**
 * Running one client command of the CLI: connect (and open more connections for parallel tree
 * operations), run, print the result or the error, set the exit code; Ctrl-C / SIGTERM and --max-time
 * destroy the connections so the running operation fails through its own cleanup.
 */
import { FtpClient } from '../client/ftp-client.js';
import { FtpClosedError, FtpNetworkError } from '../errors.js';
import { buildClientOptions, maxTimeMs, type ClientFlags } from './client-options.js';
import { errorJson, escapeControls, formatTranscript, ProgressDisplay } from './client-output.js';
import { inCliTerms } from './library-terms.js';
import { exitCodeFor, ExitCode } from './exit-codes.js';
import { parseFtpUrl, redactUrl, type FtpUrl } from './url.js';
import { promptHidden } from './prompt.js';
import { unparsedListingWarning } from './client-warnings.js';

export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

export interface RunContext {
  url: FtpUrl;
  flags: ClientFlags;
  client: FtpClient;
  /** Opens another logged-in connection with the same settings (parallel transfers). */
  connect(): Promise<FtpClient>;
  /** Opens a logged-in connection to another URL with the same flags (`copy`: the FXP target). */
  connectUrl(urlText: string): Promise<{ client: FtpClient; url: FtpUrl }>;
  io: Io;
  /** Print for humans (suppressed with --json). */
  say(line: string): void;
}


/** Connect, run, print, set the exit code. Never throws. */
export async function runWithClient(urlText: string, flags: ClientFlags, io: Io,
  fn: (ctx: RunContext) => Promise<Record<string, unknown>>): Promise<void> {
  const clients: FtpClient[] = [];
  /** Listing lines no parser understood (a warning each time; in the --json result as `unparsed`). */
  const unparsed: string[] = [];
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
    // `@name:path` (bookmarks.ts, loaded only then): the bookmark's URL and settings.
    const bookmark = urlText.startsWith('@') ? await (await import('./bookmarks.js')).resolveBookmarkRef(urlText) : undefined;
    const url = parseFtpUrl(bookmark?.urlText ?? urlText);
    const prompt = process.stdin.isTTY && io.stderr.isTTY ? (q: string) => promptHidden(q, io.stderr) : undefined;
    const built = await buildClientOptions(url, flags, { env: process.env, prompt, ...(bookmark?.settings ? { bookmarkSettings: bookmark.settings } : {}) });
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
    const open = async (label: string, options = built.options): Promise<FtpClient> => {
      if (interrupted) throw new FtpClosedError(`interrupted (${interrupted})`);
      if (deadline) throw deadline;
      const c = new FtpClient(options);
      clients.push(c);
      if (flags.verbose) {
        c.on('transcript', e => io.stderr.write(`${label}${inCliTerms(formatTranscript(e), flags)}\n`));
        const text = `password source: ${built.credentialSource}`;
        io.stderr.write(`${label}${formatTranscript({ kind: 'status', text, connection: 'control', time: new Date() })}\n`);
      }
      c.on('progress', e => progress.update(e));
      c.on('unparsedListing', e => { unparsed.push(...e.lines); io.stderr.write(unparsedListingWarning(e)); });
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
      connectUrl: async text => {
        const other = parseFtpUrl(text);
        const otherBuilt = await buildClientOptions(other, flags, { env: process.env, prompt });
        duringLogin = true;
        const c = await open(`[${++n}] `, otherBuilt.options);
        duringLogin = false;
        return { client: c, url: other };
      },
      // Every human line carries names or text from the server: escaped for the terminal (--json keeps them exact).
      say: line => { if (!flags.json) progress.print(escapeControls(line), io.stdout); },
    });
    progress.stop();
    // A tree operation outlives its destroyed connections (each remaining action fails): still an interruption.
    if (interrupted) throw new FtpClosedError(`interrupted (${interrupted})`);
    if (deadline) throw deadline;
    const failed = typeof result.exitCode === 'number' && result.exitCode !== 0;
    if (flags.json) io.stdout.write(`${JSON.stringify({ ok: !failed, url: redactUrl(url), ...result, ...(unparsed.length ? { unparsed } : {}) })}\n`);
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
    if (flags.json) io.stdout.write(`${JSON.stringify({ ok: false, exitCode: code, error: errorJson(err, flags) })}\n`);
    // No password from any source and no terminal to ask on: an empty PASS was sent; say where one can come from.
    const noPassword = credentialSource === 'none'
      ? '; no password was given: put it in $FTPKIT_PASSWORD or ~/.netrc (or the URL), or run on a terminal to be asked' : '';
    io.stderr.write(`ftpkit: ${escapeControls(inCliTerms((err as Error)?.message ?? String(err), flags))}${code === ExitCode.LoginFailure ? ` (login refused${noPassword})` : ''}\n`);
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
