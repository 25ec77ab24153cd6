/**
 * A TreeClient (tree/types.ts) whose every step goes through a Retrier: get -r, put -r and mirror survive
 * a dropped connection or a restarted server. A file cut in the middle continues where it stopped (REST /
 * APPE, retry.ts); files already complete are not transferred again, because each step is retried alone
 * and the plan made from the first listing stands (docs/client.md#retries).
 */
import type { FtpClient } from './ftp-client.js';
import { Retrier, type RetrySettings } from './retry.js';
import type { TreeClient } from './tree/types.js';

export function retryingTreeClient(client: FtpClient, settings: RetrySettings): TreeClient {
  const r = new Retrier(client, settings);
  return {
    list: (p, folder) => r.run(`list ${p ?? '.'}`, p ?? '.', () => client.list(p, folder)),
    size: (p) => r.run(`SIZE ${p}`, p, () => client.size(p)),
    download: (remote, local, opts) => r.download(remote, local, opts),
    upload: (local, remote, opts) => r.upload(local, remote, opts),
    mkdir: (p, opts) => r.run(`MKD ${p}`, p, () => client.mkdir(p, opts)),
    delete: (p) => r.run(`DELE ${p}`, p, () => client.delete(p)),
    rmdir: (p, opts) => r.run(`RMD ${p}`, p, () => client.rmdir(p, opts)),
    setModifiedAt: (p, date) => r.run(`MFMT ${p}`, p, () => client.setModifiedAt(p, date)),
    close: () => client.close(),
  };
}
