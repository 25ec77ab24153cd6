/**
 * Owns systemd socket activation for `ftpkit serve` (sd_listen_fds(3), without libsystemd): when
 * LISTEN_PID is this process and LISTEN_FDS is n >= 1, descriptors 3 .. 3+n-1 are listening sockets opened
 * by systemd (deploy/ftpkit.socket). The first is the control port; a second, if any, is the implicit FTPS
 * port (an ftpkit.socket with two ListenStream= lines, in that order). With them the process needs no
 * privilege at all to serve port 21 or 990.
 *
 * LISTEN_PID guards against inheriting the variables by accident: a child of an activated process has
 * another pid and binds its own ports. The variables are removed once read, as sd_listen_fds(1) does.
 */
import { FtpConfigError } from '../errors.js';
import type { InheritedListeners } from '../server/ftp-server.js';

/** SD_LISTEN_FDS_START: the first passed descriptor. */
export const LISTEN_FDS_START = 3;

/** The listening sockets systemd passed to this process (none when not socket-activated). */
export function systemdListeners(env: NodeJS.ProcessEnv = process.env, pid = process.pid): InheritedListeners {
  const count = Number(env.LISTEN_FDS);
  const forUs = env.LISTEN_PID !== undefined && Number(env.LISTEN_PID) === pid;
  if (env.LISTEN_FDS === undefined || !forUs) return {};
  delete env.LISTEN_FDS;
  delete env.LISTEN_PID;
  delete env.LISTEN_FDNAMES;
  if (!Number.isInteger(count) || count < 1) return {};
  if (count > 2) {
    throw new FtpConfigError('', `systemd passed ${count} sockets (LISTEN_FDS); ftpkit takes 1 (the control port) or 2 (and the implicit FTPS port)`);
  }
  return count === 2 ? { control: LISTEN_FDS_START, implicit: LISTEN_FDS_START + 1 } : { control: LISTEN_FDS_START };
}
