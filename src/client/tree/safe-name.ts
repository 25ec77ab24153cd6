/**
 * SECURITY: the one place that decides whether a name from a server listing may become a local path.
 *
 * A recursive download writes files named by the server. A hostile or broken server can list "..",
 * "../../.bashrc", "/etc/passwd", "a\\..\\..\\x" (a separator on Windows), names with NUL (truncation in C
 * libraries) or empty names. Each entry name must be one plain path segment; on top of that, every local
 * path is checked with path.resolve to lie strictly inside the target directory, and existing folders on
 * the way are checked with realpath so a pre-existing symlink cannot lead outside either.
 */
import path from 'node:path';
import { realpath } from 'node:fs/promises';

/** Why a name is refused, or undefined when it is a safe single path segment. */
export function unsafeNameReason(name: string): string | undefined {
  if (name === '') return 'empty name';
  if (name === '.' || name === '..') return `"${name}" names a folder itself`;
  if (name.includes('\0')) return 'contains a NUL byte';
  if (name.includes('/')) return 'contains "/"';
  if (name.includes('\\')) return 'contains "\\"';
  if (/[\r\n]/.test(name)) return 'contains CR or LF';
  // Windows drive-relative names ("C:x") and alternate data streams; refused everywhere for one behaviour.
  if (/^[A-Za-z]:/.test(name)) return 'looks like a drive letter';
  if (path.isAbsolute(name)) return 'is an absolute path';
  return undefined;
}

/** True when `child` is strictly below `root` (both absolute, resolved). */
export function isStrictlyInside(root: string, child: string): boolean {
  const rel = path.relative(root, child);
  // "..foo" is a legitimate name inside root; only a ".." segment climbs out.
  return rel !== '' && !path.isAbsolute(rel) && !rel.split(path.sep).includes('..');
}

export class UnsafePathError extends Error {
  constructor(message: string) { super(message); this.name = 'UnsafePathError'; }
}

/**
 * Local path for the relative path `segments` (each already a remote entry name) under `root`.
 * Throws UnsafePathError when a segment is unsafe or the result would not be inside root.
 */
export function localPathFor(root: string, segments: readonly string[]): string {
  for (const s of segments) {
    const why = unsafeNameReason(s);
    if (why) throw new UnsafePathError(`refused name ${JSON.stringify(s)}: ${why}`);
  }
  const absRoot = path.resolve(root);
  const target = path.resolve(absRoot, ...segments);
  if (!isStrictlyInside(absRoot, target)) {
    throw new UnsafePathError(`refused path ${JSON.stringify(segments.join('/'))}: outside ${absRoot}`);
  }
  return target;
}

/**
 * Check that `target` itself, when it exists (a symbolic link is followed), and otherwise the existing part
 * of its parent chain resolve (symlinks followed) inside root's real path. Call right before writing or
 * deleting.
 *
 * SECURITY: a download writes through a symbolic link that is already in the target folder (so a link to a
 * file, a device or a FIFO keeps working, see client/local-target.ts), but a tree operation writes names
 * chosen by the server: a pre-existing link pointing outside the folder (left by an unpacked archive, or
 * planted by another local user with write access there) would let those names overwrite ~/.bashrc.
 * So tree operations follow links only while they stay inside; a single `get` to a path the user typed
 * follows it wherever it goes, like cp and curl -o.
 */
export async function assertRealInside(root: string, target: string): Promise<void> {
  await insideRealRoot(root)(target);
}

/**
 * assertRealInside for many targets under one root (a mirror): the root's real path is resolved once, on
 * the first call that finds it (one realpath per file less). A root replaced by a link to elsewhere later
 * on resolves its targets outside that path: refused, never followed.
 */
export function insideRealRoot(root: string): (target: string) => Promise<void> {
  let realRoot: string | undefined;
  return async target => {
    realRoot ??= await realpath(root);
    await assertInside(realRoot, target);
  };
}

async function assertInside(realRoot: string, target: string): Promise<void> {
  let p = target;
  // Find the deepest existing path: the target itself, else its deepest existing ancestor. A dangling
  // link resolves as missing here; the download refuses it with its own message.
  for (;;) {
    try {
      const real = await realpath(p);
      if (real !== realRoot && !isStrictlyInside(realRoot, real)) {
        throw new UnsafePathError(`refused ${target}: ${p} resolves to ${real}, outside ${realRoot}`);
      }
      return;
    } catch (err) {
      if (err instanceof UnsafePathError) throw err;
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      const up = path.dirname(p);
      if (up === p) return;
      p = up;
    }
  }
}
