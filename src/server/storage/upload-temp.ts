/**
 * Owns the names of atomic uploads' temporary files (docs/server.md#uploads-atomic-resumable-or-direct): how one is made, how one
 * is recognised, and whether the process that wrote it is still alive.
 *
 * An atomic upload writes `.ftpkit-upload.<pid>.<random>.part` in the folder of its final name (same file
 * system, so the final rename(2) is atomic) and renames it over the final name once complete. These names
 * are reserved: storages that create them hide them from listings and refuse them as client paths, so no
 * client can read, list, replace or delete another's upload in progress. The pid lets the sweep at start
 * (LocalStorage.sweepUploadTemps) remove only the files of processes that are gone (kill -9, power loss),
 * never those of a live server sharing the folder.
 */
import { randomBytes } from 'node:crypto';

const PREFIX = '.ftpkit-upload.';
const SUFFIX = '.part';
const PATTERN = /^\.ftpkit-upload\.(\d{1,10})\.[0-9a-f]{16}\.part$/;

/** A fresh temporary name for an upload written by this process. */
export function uploadTempName(): string {
  return `${PREFIX}${process.pid}.${randomBytes(8).toString('hex')}${SUFFIX}`;
}

/** True for a name of our temporary pattern (only those are hidden, refused and swept). */
export function isUploadTempName(name: string): boolean {
  return PATTERN.test(name);
}

/** True when some name in a virtual path is a temporary upload's name. */
export function namesUploadTemp(virtualPath: string): boolean {
  return virtualPath.includes(PREFIX) && virtualPath.split('/').some(isUploadTempName);
}

/**
 * Whether the process that wrote a temporary file may still be writing it: its pid is alive here (EPERM:
 * alive, another user's). A pid reused since is taken as alive: the file then waits for the next sweep.
 */
export function uploadTempWriterAlive(name: string): boolean {
  const pid = Number(PATTERN.exec(name)?.[1]);
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
