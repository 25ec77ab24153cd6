/**
 * Virtual path resolution (docs/architecture.md#virtual-paths-never-escape).
 *
 * Owns: turning the working directory and a client-supplied path argument into the one normalized
 * absolute POSIX path that storage backends receive ("/", "/a/b"). Pure string code, no file system.
 *
 * Invariants (property-tested in test/unit/paths.test.ts):
 * - the result starts with "/", has no "." or ".." segments, no empty segments and no trailing "/"
 *   (except the root itself);
 * - ".." never climbs above "/": the result can never name anything outside the user's root;
 * - a NUL byte anywhere is refused (it truncates paths in C libraries and has no place in a name).
 *
 * Backslashes are treated as separators, as Windows clients use them; a backslash can therefore never
 * smuggle a ".." past this module into a backend that would read it as a separator.
 */

export class InvalidPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidPathError';
  }
}

/** Split a path into its meaningful segments, applying "." and ".." (never above the root). */
function segmentsOf(path: string, into: string[]): void {
  for (const seg of path.split(/[/\\]+/)) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') { into.pop(); continue; }
    into.push(seg);
  }
}

/**
 * Resolve `arg` against `cwd` (itself a virtual path). An empty argument means the working directory.
 * A leading "/" (or "\") makes the argument absolute, relative to the user's root.
 * Throws InvalidPathError for a NUL byte.
 */
export function resolvePath(cwd: string, arg: string): string {
  if (arg.includes('\0') || cwd.includes('\0')) throw new InvalidPathError('path contains a NUL byte');
  const segs: string[] = [];
  if (!/^[/\\]/.test(arg)) segmentsOf(cwd, segs);
  segmentsOf(arg, segs);
  return segs.length === 0 ? '/' : '/' + segs.join('/');
}

/** Normalize an absolute virtual path (same rules as resolvePath from the root). */
export function normalizePath(path: string): string {
  return resolvePath('/', path);
}

/** Parent directory of a normalized virtual path ("/" for "/" and for "/a"). */
export function parentPath(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** Last segment of a normalized virtual path ("" for "/"). */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Join a normalized directory path and one entry name. */
export function joinPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

/** True when `path` is `root` or lies below it (both normalized). */
export function isWithin(root: string, path: string): boolean {
  if (root === '/') return path.startsWith('/');
  return path === root || path.startsWith(root + '/');
}
