// What the interop targets running our own server share (peers-target.ts, tls-target.ts): the served folder with its one user, and the kept log.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { makeTempDir } from './peers-common.js';
import type { FtpServer } from '../../src/server/ftp-server.js';
import { LocalStorage } from '../../src/server/storage/local.js';
import { READ_WRITE, type Authenticator } from '../../src/server/auth/types.js';

/** A temp folder whose root/ is served through LocalStorage to one read-write user, ftpkit / ftpkit-secret. */
export async function servedRoot(prefix: string): Promise<{ root: string; cleanup: () => Promise<void>; user: string; password: string; authenticator: Authenticator }> {
  const { dir, cleanup } = await makeTempDir(prefix);
  const root = path.join(dir, 'root');
  await mkdir(root);
  const user = 'ftpkit';
  const password = 'ftpkit-secret';
  const storage = new LocalStorage(root);
  const authenticator: Authenticator = {
    async authenticate(name, pass) {
      return name === user && pass === password ? { name: user, storage, permissions: { ...READ_WRITE } } : null;
    },
  };
  return { root, cleanup, user, password, authenticator };
}

/** Keeps the server's last `max` transcript, warning and session-error lines; keep() adds more. */
export function keepServerLog(server: FtpServer, max: number): { lines: string[]; keep: (line: string) => void } {
  const lines: string[] = [];
  const keep = (line: string): void => { lines.push(line); if (lines.length > max) lines.splice(0, lines.length - max); };
  server.on('transcript', (e) => keep(`${e.sessionId} ${e.direction === 'in' ? '>' : '<'} ${e.line}`));
  server.on('warning', (e) => keep(`warning ${e.code}: ${e.message}`));
  server.on('session-error', (e) => keep(`session-error ${e.sessionId}: ${e.error.message}`));
  return { lines, keep };
}
