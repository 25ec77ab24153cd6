// The CLI tests' shared setup: run the ftpkit CLI, and our server on a temp folder with user test / s3cr=t.
import assert from 'node:assert/strict';
import { LocalStorage } from '../../src/server/storage/local.js';
import { startServer, type Harness } from './server-harness.js';
import { runFtpkit, describeCli, type CliResult } from './ftpkit-cli.js';
import { tempDir } from './temp-dir.js';

type T = { after: (fn: () => unknown) => void };

/** Runs the CLI with these extra environment variables, HOME and stdin bytes. */
export function ftpkit(args: string[], env: Record<string, string> = {}, home?: string, input?: Buffer): Promise<CliResult> {
  return runFtpkit(args, { env, home, input });
}

/** Our server on a fresh temp folder (user test, password s3cr=t), closed after the test. */
export async function server(t: T): Promise<{ h: Harness; root: string; base: string }> {
  const root = await tempDir(t, 'ftpkit-cli-srv-');
  const h = await startServer({ storage: new LocalStorage(root), users: { test: { password: 's3cr=t' } } });
  t.after(() => h.close());
  return { h, root, base: `ftp://127.0.0.1:${h.port}` };
}

/** Asserts exit 0, with everything the CLI printed as the message. */
export const ok = (r: CliResult) => assert.equal(r.code, 0, describeCli(r));
