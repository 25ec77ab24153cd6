/**
 * Declares `ftpkit serve [DIR]` (flags, help, flag parsers). What it does is in serve.ts, imported when the
 * command runs: the server, the configuration schema (zod, yaml) and the certificate code stay unloaded for
 * every other subcommand (CLI start-up, issue 10).
 */
import { Option, type Command } from 'commander';
import { FtpUsageError } from '../errors.js';
import { PERMISSION_NAMES } from '../server/auth/permissions.js';
import { DEFAULT_MAX_SESSIONS, DEFAULT_MAX_SESSIONS_PER_ADDRESS, DEFAULT_PASSIVE_PORT_RANGE } from '../server/resolved-options.js';
import { LOG_LEVELS } from '../server/log/json-logger.js';
import type { ServeFlags } from './serve-flags.js';

/** A count flag (--max-sessions, --max-sessions-per-address): an integer >= `min`. */
function countParser(flag: string, min: number): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (!/^\d{1,9}$/.test(text.trim()) || n < min) throw new FtpUsageError(`${flag} must be an integer >= ${min}, got ${JSON.stringify(text)}`);
    return n;
  };
}

function portParser(flag: string): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (!/^\d{1,5}$/.test(text.trim()) || n > 65535) throw new FtpUsageError(`${flag} must be a port number 0-65535 (0 picks a free port), got ${JSON.stringify(text)}`);
    return n;
  };
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the FTP server: DIR (default: the current folder) anonymously and read-only on port 2121 unless told otherwise')
    .argument('[dir]', 'folder served to anonymous users')
    .option('-p, --port <port>', 'control port; 0 picks a free port and the banner shows it (default 2121)', portParser('--port'))
    .option('--host <address>', 'address to listen on (default: all addresses, IPv4 and IPv6)')
    .option('--pasv-ports <range>', `passive data ports (default ${DEFAULT_PASSIVE_PORT_RANGE.min}-${DEFAULT_PASSIVE_PORT_RANGE.max}); as many as --max-sessions, or a warning at start`)
    .option('--pasv-address <address>', 'IPv4 address or hostname to advertise in PASV replies (server behind NAT)')
    .option('--pasv-address-map <networks=address>', 'per client network, e.g. private=local or 10.0.0.0/8=10.0.0.5 (repeatable; first match wins)', collect)
    .option('--pasv-advertised-ports <range>', 'ports to advertise for --pasv-ports behind a port-mapping NAT (same size)')
    .option('--max-sessions <n>', `concurrent sessions (default ${DEFAULT_MAX_SESSIONS})`, countParser('--max-sessions', 1))
    .option('--max-sessions-per-address <n>', `concurrent sessions from one client address (default ${DEFAULT_MAX_SESSIONS_PER_ADDRESS}; 0: no limit)`, countParser('--max-sessions-per-address', 0))
    .option('-w, --write', 'anonymous users may upload, create, rename and delete')
    .option('--anonymous', 'allow anonymous logins even when users are configured')
    .option('--no-anonymous', 'refuse anonymous logins')
    .option('-u, --user <NAME:HASH:ROOT[:PERMS]>', `add a user (repeatable); HASH from \`ftpkit hash-password\`, PERMS read-only, read-write (default) or a list of ${PERMISSION_NAMES.join(',')}`, collect)
    .addOption(new Option('--upload-mode <mode>', 'how uploads reach their name: atomic (default: a hidden temporary file renamed into place when complete), resumable (in place, partial files kept for REST/APPE) or direct (in place, truncated at once)').choices(['atomic', 'resumable', 'direct']))
    .option('--credential-cache-ttl <duration>', 'how long a verified password is remembered, so the next logins of that user skip the costly hash, e.g. 30s, 5m (default 5m; 0 turns the cache off)')
    .addOption(new Option('--tls <mode>', 'FTPS: explicit (AUTH TLS offered), implicit (also TLS-first on --implicit-port, default 990), required (TLS for login and data, anonymous too)').choices(['explicit', 'implicit', 'required']))
    .option('--cert <file>', 'PEM certificate and chain (default: a self-signed one kept in ~/.local/state/ftpkit)')
    .option('--key <file>', 'PEM private key (default: the --cert file)')
    .option('--implicit-port <port>', 'port for implicit FTPS (0 picks a free one)', portParser('--implicit-port'))
    .option('-c, --config <file>', 'configuration file (.yaml, .yml or .json); flags override it')
    .option('--log-level <level>', `${LOG_LEVELS.join(', ')}; debug adds the protocol transcript (default info)`)
    .option('--log-file <file>', 'append the JSON-lines log to this file instead of standard error')
    .option('--xferlog <file>', 'also append a transfer log in the xferlog format of wu-ftpd/vsftpd (one line per upload or download)')
    .option('--run-user <user>', 'started as root: become this user after binding the ports and opening the logs (run.user)')
    .option('--run-group <group>', 'with --run-user: this group instead of the user\'s primary group (run.group)')
    .option('--allow-root', 'started as root without --run-user: keep running as root instead of refusing to start (run.allowRoot)')
    .option('--admin <host:port>', 'status page, /metrics and /health on this address, e.g. 127.0.0.1:8021 (admin.listen); the token from $FTPKIT_ADMIN_TOKEN or --admin-token-file')
    .option('--admin-token-file <file>', 'file holding the admin token (admin.tokenFile); needed for an --admin address other than loopback')
    .option('--check', 'validate the configuration (hashes, folders, certificate, --run-user) and exit: 0 ok, 2 not')
    .addHelpText('after', [
      '',
      'Examples:',
      '  ftpkit serve                                   # this folder, anonymous, read-only, port 2121',
      '  ftpkit serve ~/public --write --port 2121      # anonymous uploads allowed',
      "  ftpkit serve --user 'alice:$scrypt$ln=17,r=8,p=1$...:/srv/alice'",
      '  ftpkit serve --tls required --cert server.pem --key server.key',
      '  ftpkit serve --config ftpkit.yaml --log-level debug',
      '  sudo ftpkit serve --config /etc/ftpkit/ftpkit.yaml --run-user ftpkit   # binds port 21, then drops root',
      '  ftpkit serve --config /etc/ftpkit/ftpkit.yaml --check',
      '  FTPKIT_ADMIN_TOKEN=$(openssl rand -hex 24) ftpkit serve --admin 127.0.0.1:8021   # status page',
      '',
      'Signals: SIGHUP reopens the log files and reloads the configuration (a bad one is refused, the running one stays);',
      'SIGINT/SIGTERM close gracefully. Running as a daemon (systemd, privileges, setcap): docs/server.md.',
      '',
      'Configuration reference: docs/configuration.md. Exit codes: 0 ok, 2 usage or configuration error, 5 cannot listen, 1 other.',
    ].join('\n'))
    .action(async (dir: string | undefined, flags: ServeFlags) => {
      const { inFileKeys } = await import('./serve-reload.js');
      try {
        await (flags.check
          ? (await import('./serve-check.js')).checkServe(dir, flags)
          : (await import('./serve.js')).runServe(dir, flags));
      } catch (err) {
        throw inFileKeys(err);
      }
    });
}
