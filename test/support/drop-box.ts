/**
 * The classic anonymous FTP site of docs/server.md ("Virtual folders and the anonymous drop box"), served
 * for a test: "/" from `base` (read-only), a read-only /pub holding file.txt, and a write-only /incoming.
 * Used by the socket test and by the curl interop test of the drop box.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { AnonymousAuthenticator } from '../../src/server/auth/anonymous.js';
import { resolvePermissions } from '../../src/server/auth/permissions.js';
import { READ_ONLY } from '../../src/server/auth/types.js';
import { startServer, type Harness } from './server-harness.js';
import { tempDir } from './temp-dir.js';

export interface DropBox {
  h: Harness;
  /** The test's folder: base/, pub/ and drop/ (the host folder of /incoming) are in it. */
  dir: string;
  base: string;
  pub: string;
  drop: string;
}

export async function startDropBox(t: TestContext, prefix: string): Promise<DropBox> {
  const dir = await tempDir(t, prefix);
  const [base, pub, drop] = ['base', 'pub', 'drop'].map((d) => join(dir, d)) as [string, string, string];
  for (const d of [base, pub, drop]) await mkdir(d);
  await writeFile(join(pub, 'file.txt'), 'public file');
  const h = await startServer({
    options: {
      authenticator: new AnonymousAuthenticator({
        root: base,
        folders: [
          { path: '/pub', root: pub, permissions: READ_ONLY },
          { path: '/incoming', root: drop, permissions: resolvePermissions(['write'], READ_ONLY) },
        ],
      }),
    },
  });
  t.after(() => h.close());
  return { h, dir, base, pub, drop };
}
