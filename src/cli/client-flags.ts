/**
 * The flags of the client commands of the CLI and the help text after them: every command takes the
 * connection's (timeouts, TLS, credentials, output); those that open data connections also the
 * data-connection settings, and those that transfer files the transfer type, so help lists only flags that
 * do something there. docs/client.md ("CLI") describes them; client-options.ts turns them into options.
 */
import { Command, Option } from 'commander';

/** Which groups of flags a command uses beyond the connection's: help lists only what has an effect. */
export interface FlagGroups {
  /** It opens data connections (listings, transfers): passive/active settings and the stall limit. */
  data?: boolean;
  /** It transfers files: TYPE A or I. */
  transferType?: boolean;
}

/** `--no-size-check` (get, mirror): downloads are held to their known size unless it is given (docs/client.md#short-downloads). */
export function sizeCheckOption(): Option {
  return new Option('--no-size-check', 'accept a download that ends before its known size (servers whose sizes are not what they send, e.g. /proc)');
}

export function addClientFlags(cmd: Command, groups: FlagGroups = {}): Command {
  if (groups.data) addDataFlags(cmd);
  if (groups.transferType) {
    cmd.option('--ascii', 'TYPE A transfers (line ends converted)')
      .option('--binary', 'TYPE I transfers (byte exact; the default)')
      .option('--limit-rate <rate>', 'cap each transfer at this many bytes/s: 100K, 2M, 1G (curl\'s syntax; per connection)')
      .option('--retries <n>', 'after a dropped connection, reconnect and resume up to N times (REST/APPE; never after a 5xx; default 0)')
      .option('--retry-delay <seconds>', 'wait before the first retry, doubled for each next one up to 30 s (default 1)');
  }
  return cmd
    .option('--connect-timeout <seconds>', 'control connection and greeting timeout')
    .option('--max-time <seconds>', 'the longest the whole command may take (default: no limit)')
    .option('--timeout <seconds>', 'reply and data connection timeout')
    .option('--tls', 'explicit TLS (AUTH TLS, RFC 4217)')
    .option('--tls-required', 'explicit TLS, never cleartext')
    .option('--ca <file>', 'trust this CA certificate (PEM)')
    .option('--insecure', 'do not verify the server certificate (encrypts, but anyone can pretend to be the server)')
    .option('--pin <sha256:fingerprint>', 'trust the server certificate with this SHA-256 fingerprint instead of a CA (self-signed servers; repeatable)',
      (value: string, previous: string[] = []) => [...previous, value])
    .option('--cert <file>', 'client certificate (PEM)')
    .option('--key <file>', 'client certificate key (PEM)')
    .option('--proxy <url>', 'connect through this proxy: socks5h://host:port (the proxy resolves names), socks5://, http:// (CONNECT); "" for none (default: $ftp_proxy, $all_proxy)')
    .addOption(noProxyOption())
    .option('--settings <file>', 'JSON client settings, or the output of `ftpkit doctor --json` (flags override it)')
    .option('-u, --user <name>', 'user name (overrides the URL)')
    .option('--no-netrc', 'do not read ~/.netrc')
    .option('-v, --verbose', 'print the protocol transcript (Status/Command/Response) on stderr')
    .option('--json', 'print a machine-readable result on stdout')
    .addHelpText('after', CLIENT_HELP_FOOTER);
}

/** `--no-proxy LIST` takes a value (curl's NO_PROXY list): not commander's negation of --proxy. */
function noProxyOption(): Option {
  const option = new Option('--no-proxy <list>', 'hosts reached without the proxy: comma-separated names (suffixes match), IPs, CIDRs, or * (default: $no_proxy)');
  option.negate = false;
  return option;
}

function addDataFlags(cmd: Command): void {
  cmd
    .option('--active', 'active mode: the server connects back to us (PORT/EPRT)')
    .option('--passive', 'passive mode: we connect to the server (PASV/EPSV); the default')
    .option('--port-range <low-high>', 'active mode: listen on a port of this range (e.g. 50000-50010)')
    .option('--port-address <ip>', 'active mode: address to advertise in PORT/EPRT (public IP behind NAT)')
    .option('--bind-address <ip>', 'active mode: local address to listen on')
    .option('--no-epsv', 'passive mode: PASV only (never EPSV)')
    .option('--epsv-only', 'passive mode: EPSV only (never PASV)')
    .option('--no-eprt', 'active mode: PORT only (never EPRT)')
    .addOption(new Option('--pasv-host <policy>', 'address for PASV data connections: the control host\'s (default), the reply\'s, or auto (the reply\'s unless unroutable)')
      .choices(['reply', 'control', 'auto']))
    .option('--fallback', 'if the data connection fails, retry once in the other mode')
    .option('--mode <S|Z|B|auto>', 'transmission mode: S stream (default), Z deflate, B block, auto (Z when the server offers it)')
    .option('--compress', 'MODE Z: deflate the data connection (same as --mode Z)')
    .option('--speed-limit <bytes>', 'fail a transfer slower than this many bytes/s over --speed-time (0: off; without either flag: 10 B/s over 60 s)')
    .option('--speed-time <seconds>', 'the window for --speed-limit in seconds (30 when only --speed-limit is given; given alone, the limit is 1 B/s)');
}

const CLIENT_HELP_FOOTER = `
URL: ftp://[user[:password]@]host[:port]/path (ftps:// = implicit TLS, port 990); the path is relative to the
login folder, a trailing "/" names a folder. Password: the URL, $FTPKIT_PASSWORD, ~/.netrc, else a prompt.

Exit codes: 0 ok, 2 usage, 3 login refused, 4 the server refused (4xx/5xx), 5 network (refused, timed out,
unreachable), 6 TLS, 9 verification failed (--verify), 1 other, 130 interrupted. Reference: docs/client.md.`;
