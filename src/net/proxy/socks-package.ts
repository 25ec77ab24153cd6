/**
 * The `socks` package, loaded the first time a SOCKS5 proxy is used: it is the heaviest module on the
 * client's path (~30 ms of start-up CPU) and most commands never go through a proxy (CLI start-up,
 * issue 10; test/socket/cli-startup.test.ts checks that a plain `ftpkit ls` does not load it).
 */
import type { SocksClient } from 'socks';

let loading: Promise<typeof SocksClient> | undefined;

/** The package's SocksClient class, imported once. */
export function socksClient(): Promise<typeof SocksClient> {
  loading ??= import('socks').then((m) => m.SocksClient);
  return loading;
}
