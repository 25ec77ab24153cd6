/**
 * Declares `ftpkit doctor URL` (flags, help). What it does is in doctor.ts, imported when the command runs,
 * so the doctor and the client it drives are not loaded by the other subcommands (CLI start-up, issue 10).
 */
import type { Command } from 'commander';
import type { DoctorFlags } from './doctor.js';

export function registerDoctor(program: Command): void {
  program.command('doctor')
    .description('find out which connection settings work with a server, and why the others fail (NAT, firewalls, ALGs, TLS)')
    .argument('<url>', 'ftp://[user[:password]@]host[:port][/folder] (ftps:// for implicit TLS); a writable folder enables the upload check')
    .option('--json', 'print the whole finding as JSON (recommended.settings works with --settings)')
    .option('--html <file>', 'also write the report as one self-contained HTML file (grid, evidence, fixes, timeline)')
    .option('--port-range <low-high>', 'active mode: also try listening on this range (ports your firewall/router opens)')
    .option('--port-address <ip>', 'active mode: also try advertising this address (your public IP behind NAT)')
    .option('--budget <time>', 'total time limit, e.g. 20s (default 20s)')
    .option('--connect-timeout <time>', 'connect and data-connection timeout, e.g. 5s (default 5s)')
    .option('--tls', 'you want TLS: do not send the login in cleartext')
    .option('--ca <file>', 'trust this CA certificate (PEM)')
    .option('--insecure', 'do not verify the server certificate (carried into the recommended settings)')
    .option('--servername <name>', 'TLS server name to check the certificate against')
    .option('-u, --user <name>', 'user name (overrides the URL)')
    .option('--no-netrc', 'do not read ~/.netrc')
    .option('--no-write', 'do not try upload + download + delete')
    .option('--no-active', 'do not try active mode')
    .option('-v, --verbose', 'include the evidence (transcript lines) of every step and failed combination')
    .action(async (urlText: string, flags: DoctorFlags) => (await import('./doctor.js')).runDoctor(urlText, flags));
}
