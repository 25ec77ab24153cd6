/**
 * Declares `ftpkit db migrate|status` and `ftpkit user add|passwd|del|list` (docs/server.md#users-bans-and-quotas-in-postgresql).
 * What they do is in db-actions.ts, imported when one runs: node-postgres stays unloaded for the other
 * subcommands. The database is named by --url, else FTPKIT_DATABASE_URL, else the `database:` section of
 * --config FILE.
 */
import type { Command } from 'commander';
import { FtpUsageError } from '../errors.js';
import { PERMISSION_NAMES } from '../server/auth/permissions.js';
import type { DatabaseFlags, UserAddFlags } from './db-actions.js';

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function count(flag: string): (text: string) => number {
  return (text) => {
    if (!/^\d{1,15}$/.test(text.trim()) || Number(text) < 1) throw new FtpUsageError(`${flag} must be a whole number >= 1, got ${JSON.stringify(text)}`);
    return Number(text);
  };
}

function withDatabase(cmd: Command): Command {
  return cmd
    .option('--url <postgres-url>', 'the database: postgres://user:password@host:port/name (default: $FTPKIT_DATABASE_URL)')
    .option('-c, --config <file>', 'read the database from the `database:` section of this server configuration');
}

const EXIT_HELP = [
  '',
  'Exit codes: 0 done, 2 bad command line, 5 the database cannot be reached, 7 the user exists,',
  '8 no such user, 1 anything else (e.g. the schema is not migrated: run `ftpkit db migrate`).',
].join('\n');

export function registerDatabaseCommands(program: Command): void {
  const db = program.command('db').description('the PostgreSQL database of users, bans and quota usage shared by server nodes');
  withDatabase(db.command('migrate').description('apply the schema migrations this ftpkit ships (safe to run on several nodes at once)'))
    .action(async (flags: DatabaseFlags) => (await import('./db-actions.js')).dbMigrate(flags));
  withDatabase(db.command('status').description('show the applied and pending migrations (exit 1 when some are pending)'))
    .action(async (flags: DatabaseFlags) => (await import('./db-actions.js')).dbStatus(flags));

  const user = program.command('user').description('users in the PostgreSQL database (`ftpkit db migrate` first)').addHelpText('after', EXIT_HELP);
  withDatabase(user.command('add').description('add a user; the password is asked twice without echo, or read from stdin')
    .argument('<name>', 'login name')
    .requiredOption('--root <dir>', 'the folder the user sees as "/" (on each node), or s3://bucket/prefix/ (the s3: section of each node)')
    .option('--home <path>', 'initial directory inside the root (default /)')
    .option('--permissions <set>', `read-only, read-write (default) or a list of ${PERMISSION_NAMES.join(',')}`)
    .option('--folder <vpath=dir[:perms]>', 'mount a host folder at a virtual path, e.g. /pub=/srv/pub:read-only (repeatable)', collect)
    .option('--quota-bytes <size>', 'bytes the user may store in all, e.g. 10GiB')
    .option('--quota-files <n>', 'files the user may store in all', count('--quota-files'))
    .option('--max-upload <size>', 'largest single upload, e.g. 500MiB')
    .option('--password-hash <hash>', 'store this hash ($scrypt$, $6$, $5$, $2b$) instead of asking for a password')
    .option('--password-stdin', 'read the password from standard input even on a terminal')
    .addHelpText('after', EXIT_HELP))
    .action(async (name: string, flags: UserAddFlags) => (await import('./db-actions.js')).userAdd(name, flags));
  withDatabase(user.command('passwd').description('change a user\'s password (asked twice without echo, or read from stdin)')
    .argument('<name>', 'login name')
    .option('--password-hash <hash>', 'store this hash instead of asking for a password')
    .option('--password-stdin', 'read the password from standard input even on a terminal')
    .addHelpText('after', EXIT_HELP))
    .action(async (name: string, flags: DatabaseFlags & { passwordHash?: string; passwordStdin?: boolean }) => (await import('./db-actions.js')).userPasswd(name, flags));
  withDatabase(user.command('del').description('remove a user (and their quota usage)').argument('<name>', 'login name').addHelpText('after', EXIT_HELP))
    .action(async (name: string, flags: DatabaseFlags) => (await import('./db-actions.js')).userDel(name, flags));
  withDatabase(user.command('list').description('list the users (never their hashes)').option('--json', 'one JSON object per line'))
    .action(async (flags: DatabaseFlags & { json?: boolean }) => (await import('./db-actions.js')).userList(flags));
}
