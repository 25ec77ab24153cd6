#!/usr/bin/env node
/**
 * The `ftpkit` executable. Thin on purpose: the subcommands are registered in registry.ts, each from a
 * module that only declares it and imports what the command does when it runs; program.ts turns errors into
 * exit codes (exit-codes.ts). A bare `--version` is answered before the CLI framework is even loaded:
 * scripts call it in loops (start-up, issue 10; test/socket/cli-startup.test.ts).
 */
import { packageVersion } from './version.js';

// `ftpkit ... | head`: when the reader of stdout leaves, what was asked for has been taken; like curl, that is
// not a failure (exit 0), never an unhandled EPIPE crash. Transfers to stdout see the same error through their
// own stream and stop (client-actions.ts); other stdout errors still surface.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
});

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  // What commander prints for the same flags (program.ts), without loading it.
  process.stdout.write(`${packageVersion()}\n`);
} else {
  const [{ runCli }, { buildProgram }] = await Promise.all([import('./program.js'), import('./registry.js')]);
  await runCli(buildProgram(), process.argv);
}
