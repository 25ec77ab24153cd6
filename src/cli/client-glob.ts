/**
 * Wildcards of the client CLI (docs/client.md#wildcards): `get 'ftp://h/dir/*.csv' [LOCALDIR]` downloads
 * every matching file of the folder (matched on its listing, client/wildcard-select.ts), and `put` takes
 * several local files, or a quoted local pattern that the shell left alone, into a remote folder.
 * Wildcards are on unless --globoff (curl's name), which takes "*", "?" and "[" literally.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { FtpNoMatchError, FtpUsageError } from '../errors.js';
import { isRemotePattern, splitRemotePattern } from '../client/wildcard-select.js';
import { compileWildcard, hasWildcard } from '../protocol/wildcard.js';
import type { ClientFlags } from './client-options.js';
import { escapeControls, humanBytes } from './client-output.js';
import type { RunContext } from './client-run.js';

export type GlobFlags = ClientFlags & { globoff?: boolean; resume?: boolean; recursive?: boolean };

/**
 * A "?" in an ftp:// URL starts its query (RFC 3986 s3.4), which FTP URLs do not have: in a pattern it is
 * the one-character wildcard, so it is percent-encoded before the URL is read. Only after the host (a
 * password with "?" must be percent-encoded anyway); untouched with --globoff.
 */
export function globUrlText(urlText: string, flags: GlobFlags): string {
  if (flags.globoff) return urlText;
  const authorityStart = urlText.indexOf('//') + 2;
  const pathStart = urlText.indexOf('/', authorityStart);
  if (authorityStart < 2 || pathStart < 0) return urlText;
  return urlText.slice(0, pathStart) + urlText.slice(pathStart).replace(/\?/g, '%3F');
}

/** The remote path is a pattern `get` expands (and --globoff is not given). */
export function isGlobGet(remotePath: string, flags: GlobFlags): boolean {
  return !flags.globoff && isRemotePattern(remotePath);
}

async function isDirectory(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isDirectory() ?? false;
}

/**
 * `get PATTERN [LOCALDIR]`: every matching file into LOCALDIR (default "."), one after the other on the
 * connection; with -r, matching folders too (as `get -r` of each). No match is FtpNoMatchError (exit 4,
 * like a missing file); a name that could not be a local file name is refused (stderr), the rest go on.
 */
export async function getMatching(ctx: RunContext, local: string | undefined, flags: GlobFlags,
  runTree: (remote: string, localDir: string) => Promise<Record<string, unknown>>): Promise<Record<string, unknown>> {
  const target = local ?? '.';
  if (target === '-') throw new FtpUsageError('a wildcard names several files: LOCAL must be a folder, not "-"');
  if (!await isDirectory(target)) throw new FtpUsageError(`${target}: no such local folder (a wildcard downloads into a folder)`);
  const { folder, pattern } = splitRemotePattern(ctx.url.path);
  // The tree code's name check, loaded only here: `ls` and a plain `get` stay quick to start (cli-startup test).
  const { localPathFor, UnsafePathError } = await import('../client/tree/safe-name.js');
  const matches = await ctx.client.glob(ctx.url.path, { folders: !!flags.recursive });
  if (matches.length === 0) throw new FtpNoMatchError(pattern, folder);
  const files: Array<Record<string, unknown>> = [];
  const refused: Array<{ name: string; reason: string }> = [];
  let bytes = 0;
  for (const m of matches) {
    let dest: string;
    try {
      dest = localPathFor(target, [m.entry.name]);
    } catch (e) {
      if (!(e instanceof UnsafePathError)) throw e;
      refused.push({ name: m.entry.name, reason: e.message });
      ctx.io.stderr.write(`ftpkit: ${escapeControls(e.message)}\n`);
      continue;
    }
    if (m.entry.type === 'dir') {
      files.push({ remotePath: m.path, destination: dest, tree: await runTree(m.path, dest) });
      continue;
    }
    // A listing's size is the file's only for a file: a symbolic link's is the length of its target's name.
    const size = m.entry.type === 'file' ? m.entry.size : undefined;
    const r = await ctx.client.download(m.path, dest, { resume: !!flags.resume, ...(size !== undefined ? { size } : {}) });
    bytes += r.bytes;
    ctx.say(`${m.path} -> ${dest}: ${humanBytes(r.bytes)}${r.startOffset ? ` (resumed at ${r.startOffset})` : ''}`);
    files.push({ remotePath: m.path, destination: dest, bytes: r.bytes, startOffset: r.startOffset });
  }
  return { pattern, matched: matches.length, files, bytes, ...(refused.length ? { refused, exitCode: 1 } : {}) };
}

/**
 * The local sources of `put`: each argument as given, or, when it names no file and holds a wildcard (the
 * shell did not expand it: quoted, or no match there), the matching files of its folder, sorted. A pattern
 * that matches nothing is a usage error, as it is for the shell's failglob.
 */
export async function expandLocalSources(sources: string[], flags: GlobFlags): Promise<string[]> {
  const out: string[] = [];
  for (const source of sources) {
    if (source === '-' || flags.globoff || !hasWildcard(path.basename(source), { classes: true })
      || await stat(source).then(() => true, () => false)) {
      out.push(source);
      continue;
    }
    const dir = path.dirname(source);
    const compiled = compileWildcard(path.basename(source), { classes: true });
    if (compiled.kind !== 'pattern') throw new FtpUsageError(`${source}: the pattern is too long`);
    const dotOk = path.basename(source).startsWith('.');
    const names = (await readdir(dir, { withFileTypes: true }).catch(() => []))
      .filter(d => (dotOk || !d.name.startsWith('.')) && compiled.wildcard.matches(d.name) && !d.isDirectory())
      .map(d => path.join(dir, d.name)).sort();
    if (names.length === 0) throw new FtpUsageError(`${source}: no local file matches`);
    out.push(...names);
  }
  return out;
}
