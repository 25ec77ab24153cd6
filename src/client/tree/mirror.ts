/**
 * Recursive download/upload of a tree and `mirror` (one-way sync, either direction, by size and mtime,
 * optional delete, N parallel connections, dry run).
 *
 * Flow: snapshot both sides (walk.ts, where unsafe names are refused and empty listings checked), plan
 * (plan.ts, pure), check deletions under folders that listed empty (deletion-check.ts), then run:
 * clear conflicting entries, create folders, transfer files on a small pool of connections, delete extras.
 * A failed action is reported and the rest goes on; the result lists every failure.
 *
 * SECURITY: every local path goes through localPathFor (single-segment names + path.resolve containment)
 * and insideRealRoot (the existing target or folders resolved with realpath: a symbolic link already in
 * the folder is followed only while it stays inside) right before it is written or deleted.
 */
import { mkdir, rm, stat } from 'node:fs/promises';
import { FtpReplyError, FtpUsageError } from '../../errors.js';
import { ReplyCode } from '../../protocol/reply-codes.js';
import { setLocalModifiedAt } from '../timestamps.js';
import { allActions, planMirror } from './plan.js';
import { checkDeletionsUnderEmptyFolders } from './deletion-check.js';
import { recheckUnchanged } from './checksum.js';
import { insideRealRoot, localPathFor } from './safe-name.js';
import type { MirrorOptions, MirrorResult, TreeAction, TreeClient, TreeEvent } from './types.js';
import { remoteJoin, walkLocal, walkRemote, type Tree } from './walk.js';

/**
 * The bytes of a file a mirror downloaded. FtpClient's result says it (fileBytes) and has set the time
 * (modifiedAt) when the file is a regular one: no stat. Another TreeClient's answer is not trusted: the
 * file is stat'ed and given the time here (a device or FIFO keeps its times and counts the listed size).
 */
async function settleDownloaded(done: unknown, target: string, mtime: Date | undefined, listed: number | undefined): Promise<number> {
  const r = done as { fileBytes?: unknown; modifiedAt?: unknown } | undefined;
  if (typeof r?.fileBytes === 'number' && (!mtime || r.modifiedAt instanceof Date)) return r.fileBytes;
  const written = await stat(target);
  if (mtime && written.isFile()) await setLocalModifiedAt(target, mtime);
  return written.isFile() ? written.size : listed ?? 0;
}

function segmentsOf(rel: string): string[] {
  return rel.split('/');
}

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** Run `fn` over items on up to `clients.length` workers; worker i > 0 gets its client from `connect`. */
async function runPool<T>(
  items: T[], parallel: number, primary: TreeClient, connect: (() => Promise<TreeClient>) | undefined,
  emit: (e: TreeEvent) => void, fn: (client: TreeClient, item: T, worker: number) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  let next = 0;
  const workers = Math.max(1, Math.min(parallel, items.length, connect ? parallel : 1));
  const run = async (worker: number): Promise<void> => {
    let client = primary;
    if (worker > 0) {
      try {
        client = await connect!();
      } catch (err) {
        // Servers cap connections per IP (pure-ftpd, vsftpd max_per_ip): carry on with fewer.
        emit({ type: 'connection-failed', worker, error: toError(err) });
        return;
      }
    }
    try {
      while (next < items.length && !signal?.aborted) {
        const item = items[next++];
        await fn(client, item, worker);
      }
    } finally {
      if (worker > 0) await Promise.resolve(client.close()).catch(() => undefined);
    }
  };
  await Promise.all(Array.from({ length: workers }, (_, i) => run(i)));
}

/** A reply that may mean "the folder is not there": 550/553 (RFC 959 s4.2), and 451 from servers (ftp-srv). */
function mayBeMissingFolder(err: unknown): boolean {
  return err instanceof FtpReplyError && (err.replyCode >= 500 || err.replyCode === ReplyCode.LocalError);
}

/**
 * Whether the upload's remote root exists. 550 says it does not. 451 is ambiguous (ftp-srv's answer for a
 * missing folder, elsewhere a transient failure): outside a dry run the folder is created and listed once
 * more, as lftp recovers, so a second failure is a real one; a dry run changes nothing and plans as if the
 * folder were missing (every file new, nothing to delete). Anything else (network, 425) is a real failure.
 */
async function remoteRootExists(client: TreeClient, root: string, dryRun: boolean): Promise<boolean> {
  try {
    await client.list(root, { mustExist: true });
    return true;
  } catch (err) {
    if (!mayBeMissingFolder(err)) throw err;
    if (err instanceof FtpReplyError && err.replyCode >= 500) return false;
    if (dryRun) return false;
    await client.mkdir(root, { recursive: true });
    return true;
  }
}

export async function mirror(client: TreeClient, options: MirrorOptions): Promise<MirrorResult> {
  const direction = options.direction ?? 'download';
  const emit = options.onEvent ?? (() => undefined);
  const signal = options.signal;
  const maxDepth = options.maxDepth ?? 64;
  const { remoteDir, localDir } = options;
  let refused = 0;
  const counting = (e: TreeEvent) => { if (e.type === 'refused') refused++; emit(e); };

  let remote: Tree;
  let remoteMissing = false;
  /** Remote folders that listed empty (relative paths): nothing local under them is deleted unchecked. */
  const emptyDirs: string[] = [];
  if (direction === 'upload') {
    // The remote root may not exist yet; it is created before the first upload.
    // A missing local root would look like an empty tree and, with delete, empty the server.
    const st = await stat(localDir).catch(() => undefined);
    if (!st?.isDirectory()) throw new FtpUsageError(`${localDir} is not a folder`);
    remoteMissing = !(await remoteRootExists(client, remoteDir, !!options.dryRun));
    remote = remoteMissing ? new Map() : await walkRemote(client, remoteDir, counting, maxDepth, signal);
  } else {
    // A target that exists must be a folder (a symbolic link to one is followed: the user named it). A file,
    // device or FIFO there is refused before anything is listed or written, never replaced by a folder.
    const st = await stat(localDir).catch(() => undefined);
    if (st && !st.isDirectory()) throw new FtpUsageError(`${localDir} exists and is not a folder`);
    remote = await walkRemote(client, remoteDir, counting, maxDepth, signal, emptyDirs);
  }
  const local = await walkLocal(localDir, counting, maxDepth, signal);
  const [source, dest] = direction === 'download' ? [remote, local] : [local, remote];
  const plan = planMirror(source, dest, { compare: options.compare, delete: options.delete });
  if (direction === 'download') await checkDeletionsUnderEmptyFolders(client, plan, remoteDir, emptyDirs, local);
  if (options.checksum) {
    await recheckUnchanged(client, plan, rel => ({ remote: remoteJoin(remoteDir, segmentsOf(rel)), local: localPathFor(localDir, segmentsOf(rel)) }), emit, signal);
  }
  const result: MirrorResult = {
    actions: allActions(plan), failures: [], transferred: 0, skipped: plan.skips.length, deleted: 0,
    created: 0, bytes: 0, refused, dryRun: !!options.dryRun,
  };
  if (options.dryRun) return result;

  const fail = (action: TreeAction, worker: number, err: unknown) => {
    const error = toError(err);
    result.failures.push({ action, error });
    emit({ type: 'action-failed', action, worker, error });
  };
  let mtimeWarned = false;
  const assertLocalInside = insideRealRoot(localDir);

  const doAction = async (c: TreeClient, action: TreeAction, worker: number): Promise<void> => {
    signal?.throwIfAborted();
    emit({ type: 'action-start', action, worker });
    const segs = segmentsOf(action.rel);
    const remotePath = remoteJoin(remoteDir, segs);
    try {
      if (direction === 'download') {
        const target = localPathFor(localDir, segs);
        await assertLocalInside(target);
        if (action.kind === 'mkdir') { await mkdir(target, { recursive: true }); result.created++; }
        else if (action.kind === 'delete-file' || action.kind === 'delete-dir') {
          await rm(target, { recursive: action.kind === 'delete-dir', force: true });
          result.deleted++;
        } else if (action.kind === 'transfer') {
          // A device or FIFO already in the folder (walkLocal skips them, so they plan as new) is written
          // through, never replaced: the download decides that (client/local-target.ts).
          // The listing's size stands in for SIZE (progress): one round trip less per file (lftp sends
          // none either).
          // Same mtime as the server's, so the next mirror sees the file as unchanged; set by the download
          // itself (the listing's time, no MDTM). A device or FIFO has no content to compare: its times
          // are left alone.
          const mtime = source.get(action.rel)?.modifiedAt;
          const done = await c.download(remotePath, target, { signal, size: action.size, ...(mtime ? { preserveTime: true, modifiedAt: mtime } : {}) });
          result.transferred++;
          result.bytes += await settleDownloaded(done, target, mtime, action.size);
        }
      } else {
        const localPath = localPathFor(localDir, segs);
        if (action.kind === 'mkdir') { await c.mkdir(remotePath, { recursive: true }); result.created++; }
        else if (action.kind === 'delete-file') { await c.delete(remotePath); result.deleted++; }
        else if (action.kind === 'delete-dir') { await c.rmdir(remotePath, { recursive: true }); result.deleted++; }
        else if (action.kind === 'transfer') {
          try {
            await c.upload(localPath, remotePath, { signal });
          } catch (err) {
            // Its folder may have gone (removed meanwhile, or a server that lost it: ftp-srv answers 451):
            // create it and try that file once more, as lftp does; a second failure is reported.
            if (signal?.aborted || !mayBeMissingFolder(err)) throw err;
            emit({ type: 'retrying', action, worker, error: toError(err) });
            await c.mkdir(remoteJoin(remoteDir, segs.slice(0, -1)), { recursive: true });
            await c.upload(localPath, remotePath, { signal });
          }
          result.transferred++;
          result.bytes += action.size ?? 0;
          const mtime = source.get(action.rel)?.modifiedAt;
          if (mtime && c.setModifiedAt) {
            try {
              await c.setModifiedAt(remotePath, mtime);
            } catch (err) {
              // MFMT is an extension (not in FEAT everywhere): the remote keeps the upload time, which is
              // newer than the local file, so the next mirror still sees it as unchanged.
              if (!mtimeWarned) { mtimeWarned = true; emit({ type: 'mtime-not-set', rel: action.rel, error: toError(err) }); }
            }
          }
        }
      }
      emit({ type: 'action-done', action, worker });
    } catch (err) {
      if (signal?.aborted) throw err;
      fail(action, worker, err);
    }
  };

  for (const a of plan.clear) await doAction(client, a, 0);
  if (direction === 'download') await mkdir(localDir, { recursive: true });
  else if (remoteMissing) await client.mkdir(remoteDir, { recursive: true });
  for (const a of plan.mkdirs) await doAction(client, a, 0);
  await runPool(plan.transfers, options.parallel ?? 1, client, options.connect, emit,
    (c, a, w) => doAction(c, a, w), signal);
  signal?.throwIfAborted();
  for (const a of plan.deletions) await doAction(client, a, 0);
  return result;
}

/** Download a whole remote folder into localDir (every file, no comparison). */
export function downloadTree(client: TreeClient, remoteDir: string, localDir: string,
  options: Omit<MirrorOptions, 'remoteDir' | 'localDir' | 'direction'> = {}): Promise<MirrorResult> {
  return mirror(client, { compare: 'always', ...options, remoteDir, localDir, direction: 'download' });
}

/** Upload a whole local folder to remoteDir (every file, no comparison). */
export function uploadTree(client: TreeClient, localDir: string, remoteDir: string,
  options: Omit<MirrorOptions, 'remoteDir' | 'localDir' | 'direction'> = {}): Promise<MirrorResult> {
  return mirror(client, { compare: 'always', ...options, remoteDir, localDir, direction: 'upload' });
}
