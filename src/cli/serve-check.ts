/**
 * Owns `ftpkit serve --check` (like `nginx -t`): everything start-up checks except binding the ports, that
 * is the configuration file and flags, password hashes, root and home folders, the TLS certificate and key
 * (read, parsed, matched), and the user to drop to; then one line of summary. A problem throws
 * FtpConfigError naming the key (exit 2).
 */
import { resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { checkRoots, planServe } from '../server/config/to-options.js';
import { FtpServer } from '../server/ftp-server.js';
import { privilegePlan } from './privileges.js';
import { readServeConfig, type ServeFlags } from './serve.js';

export async function checkServe(dir: string | undefined, flags: ServeFlags, out: Writable = process.stdout): Promise<void> {
  const config = await readServeConfig(dir, flags);
  const identity = privilegePlan(config);
  const plan = planServe(config, resolve(dir ?? '.'));
  await checkRoots(plan, config);
  await new FtpServer(plan.options).security?.init();
  const who = plan.summary.anonymous ? `anonymous (${plan.summary.anonymous.description})` : '';
  const users = plan.summary.users.length ? `${plan.summary.users.length} user${plan.summary.users.length === 1 ? '' : 's'}` : '';
  out.write(`configuration ok${flags.config ? ` (${flags.config})` : ''}: ${[who, users].filter(Boolean).join(' and ')}`
    + `${plan.options.tls ? ', FTPS' : ''}${identity ? `, runs as ${identity.label} after binding` : ''}\n`);
}
