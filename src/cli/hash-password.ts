/**
 * Owns `ftpkit hash-password`: prints the scrypt hash of a password for the `users[].password` key of the
 * server configuration (or `serve --user NAME:HASH:ROOT`). The password is read from a prompt without echo
 * (asked twice) on a terminal, or from standard input otherwise (one trailing newline removed), so it
 * never appears in the shell history or the process list.
 */
import type { Command } from 'commander';
import { FtpUsageError } from '../errors.js';
import { DEFAULT_SCRYPT_PARAMS, hashPassword } from '../server/auth/password-hash.js';
import { promptHidden } from './prompt.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

function parseCost(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 10 || n > 20) throw new FtpUsageError(`--cost must be an integer from 10 to 20 (log2 of scrypt N), got ${JSON.stringify(text)}`);
  return n;
}

/** A new password: prompted twice without echo on a terminal, else (or with `fromStdin`) read from stdin. */
export async function readNewPassword(fromStdin = false): Promise<string> {
  if (process.stdin.isTTY && !fromStdin) {
    const first = await promptHidden('Password: ', process.stderr);
    const second = await promptHidden('Again: ', process.stderr);
    if (first !== second) throw new FtpUsageError('the two passwords differ');
    if (first === '') throw new FtpUsageError('empty password');
    return first;
  }
  const password = await readStdin();
  if (password === '') throw new FtpUsageError('empty password on standard input');
  return password;
}

export function registerHashPassword(program: Command): void {
  program
    .command('hash-password')
    .description('print the scrypt hash of a password for the server configuration (prompted without echo, or read from stdin)')
    .option('--cost <ln>', `scrypt cost as log2(N), 10-20; each login costs 128 * 2^ln * 8 bytes of memory (default ${DEFAULT_SCRYPT_PARAMS.ln})`, parseCost)
    .addHelpText('after', [
      '',
      'Examples:',
      '  ftpkit hash-password                          # asks twice, prints $scrypt$ln=17,r=8,p=1$...',
      "  printf '%s' \"$PW\" | ftpkit hash-password      # from a script",
      '',
      'It always makes scrypt (Node has no built-in argon2). The server also accepts hashes migrated from',
      'other servers as they are: $6$/$5$ SHA-crypt (/etc/shadow, mkpasswd) and $2b$ bcrypt.',
    ].join('\n'))
    .action(async (opts: { cost?: number }) => {
      const password = await readNewPassword();
      const hash = await hashPassword(password, { ...DEFAULT_SCRYPT_PARAMS, ln: opts.cost ?? DEFAULT_SCRYPT_PARAMS.ln });
      process.stdout.write(`${hash}\n`);
    });
}
