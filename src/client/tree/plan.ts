/**
 * The mirror plan: pure comparison of a source tree and a destination tree into ordered actions.
 * No I/O, so every rule here is unit-tested directly.
 *
 * A file is transferred when it is new, when both sizes are known and differ, or when the source is newer
 * than the destination by more than the coarser of the two time precisions (an `ls -l` listing only has
 * minutes, or only the day for old files). After a download the local mtime is set to the remote one and
 * after an upload MFMT sets the remote one, so an unchanged tree plans nothing but skips.
 */
import type { Tree } from './walk.js';
import type { CompareMode, TreeAction, TreeNode } from './types.js';

export interface PlanOptions {
  compare?: CompareMode;
  delete?: boolean;
}

export interface MirrorPlan {
  /** Destination entries in the way of a source entry of another type (only with delete). */
  clear: TreeAction[];
  mkdirs: TreeAction[];
  transfers: TreeAction[];
  skips: TreeAction[];
  /** Extra destination entries (only with delete); folders once, not their content. */
  deletions: TreeAction[];
}

export function allActions(plan: MirrorPlan): TreeAction[] {
  return [...plan.clear, ...plan.mkdirs, ...plan.transfers, ...plan.skips, ...plan.deletions];
}

function byPath(a: TreeNode, b: TreeNode): number {
  // Compare segment by segment so a folder always precedes its content.
  const n = Math.min(a.segments.length, b.segments.length);
  for (let i = 0; i < n; i++) {
    if (a.segments[i] !== b.segments[i]) return a.segments[i] < b.segments[i] ? -1 : 1;
  }
  return a.segments.length - b.segments.length;
}

function underAny(rel: string, prefixes: Set<string>): boolean {
  for (let i = rel.indexOf('/'); i >= 0; i = rel.indexOf('/', i + 1)) {
    if (prefixes.has(rel.slice(0, i))) return true;
  }
  return false;
}

function transferReason(src: TreeNode, dst: TreeNode | undefined, compare: CompareMode): string | undefined {
  if (!dst) return 'new';
  if (compare === 'always') return 'always';
  if (src.size !== undefined && dst.size !== undefined && src.size !== dst.size) {
    return `size differs (${src.size} != ${dst.size})`;
  }
  // Size only: for LIST-only servers whose listing times are in an unknown zone (no MLSD, RFC 3659 s2.3).
  if (compare === 'size') return src.size === undefined || dst.size === undefined ? 'cannot compare (no size)' : undefined;
  if (!src.modifiedAt || !dst.modifiedAt) {
    return src.size === undefined || dst.size === undefined ? 'cannot compare (no size or time)' : undefined;
  }
  const tolerance = Math.max(1000, src.precisionMs, dst.precisionMs);
  if (src.modifiedAt.getTime() > dst.modifiedAt.getTime() + tolerance) return 'source is newer';
  return undefined;
}

export function planMirror(source: Tree, dest: Tree, options: PlanOptions = {}): MirrorPlan {
  const compare = options.compare ?? 'newer';
  const plan: MirrorPlan = { clear: [], mkdirs: [], transfers: [], skips: [], deletions: [] };
  const blocked = new Set<string>();
  const cleared = new Set<string>();

  for (const src of [...source.values()].sort(byPath)) {
    if (underAny(src.rel, blocked)) continue;
    const dst = dest.get(src.rel);
    if (dst && dst.type !== src.type) {
      if (!options.delete) {
        plan.skips.push({ kind: 'skip', rel: src.rel, reason: `the destination has a ${dst.type} of that name (use delete to replace it)` });
        if (src.type === 'dir') blocked.add(src.rel);
        continue;
      }
      plan.clear.push({ kind: dst.type === 'dir' ? 'delete-dir' : 'delete-file', rel: dst.rel, reason: `in the way of a ${src.type}` });
      cleared.add(dst.rel);
    }
    const existing = dst && dst.type === src.type ? dst : undefined;
    if (src.type === 'dir') {
      if (!existing) plan.mkdirs.push({ kind: 'mkdir', rel: src.rel, reason: 'new' });
      continue;
    }
    const reason = transferReason(src, existing, compare);
    if (reason) plan.transfers.push({ kind: 'transfer', rel: src.rel, reason, size: src.size });
    else plan.skips.push({ kind: 'skip', rel: src.rel, reason: 'unchanged', size: src.size });
  }

  if (options.delete) {
    const gone = new Set<string>();
    for (const dst of [...dest.values()].sort(byPath)) {
      if (source.has(dst.rel) || cleared.has(dst.rel) || underAny(dst.rel, gone) || underAny(dst.rel, cleared)) continue;
      plan.deletions.push({ kind: dst.type === 'dir' ? 'delete-dir' : 'delete-file', rel: dst.rel, reason: 'not in source' });
      if (dst.type === 'dir') gone.add(dst.rel);
    }
  }
  return plan;
}
