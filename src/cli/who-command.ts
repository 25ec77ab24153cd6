/**
 * Declares `ftpkit who` (like proftpd's ftpwho): the sessions of a running server, from its admin listener
 * (docs/server.md#admin-page). What it does is in who.ts, imported when the command runs.
 */
import type { Command } from 'commander';
import type { WhoFlags } from './who.js';

export function registerWho(program: Command): void {
  program
    .command('who')
    .description("list a running server's sessions (user, address, idle or busy, the running transfer), from its admin listener")
    .option('--admin <url>', 'the admin listener (`serve --admin`, the admin section); default $FTPKIT_ADMIN_URL or http://127.0.0.1:8021/')
    .option('--token <token>', 'the admin token (visible in the process list: prefer $FTPKIT_ADMIN_TOKEN or --token-file)')
    .option('--token-file <file>', 'read the admin token from this file')
    .option('--json', 'print the status document as JSON instead of a table')
    .option('-k, --insecure', 'HTTPS: accept a certificate that cannot be verified (a self-signed one)')
    .addHelpText('after', [
      '',
      'Examples:',
      '  FTPKIT_ADMIN_TOKEN=... ftpkit who',
      '  ftpkit who --admin https://ftp.example.net:8021/ --token-file ~/.ftpkit-admin-token',
      '',
      'Exit codes: 0 ok, 2 usage, 3 the token was refused, 5 the admin listener cannot be reached, 1 other.',
    ].join('\n'))
    .action(async (flags: WhoFlags) => {
      await (await import('./who.js')).runWho(flags);
    });
}
