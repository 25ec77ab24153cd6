/**
 * Owns the CLI framework shared by every `ftpkit` subcommand: the commander program (name, version,
 * usage errors -> exit code 2), and running it so that any error becomes one line on stderr and the
 * documented exit code (src/cli/exit-codes.ts). Subcommands live in their own modules and register with
 * one line each in main.ts.
 */
import { Command, CommanderError } from 'commander';
import { ExitCode, exitCodeFor } from './exit-codes.js';
import { packageVersion } from './version.js';

export function createProgram(): Command {
  const program = new Command('ftpkit');
  program
    .description('FTP toolkit: a server, a client with every data-connection setting, and a connection doctor')
    .version(packageVersion(), '-V, --version')
    .showSuggestionAfterError(true)
    // Usage errors must exit with 2, not commander's 1: throw and let runCli decide (inherited by subcommands).
    .exitOverride()
    .configureHelp({ sortSubcommands: false });
  return program;
}

/**
 * Parse argv and run the chosen subcommand. Never throws: prints "ftpkit: <message>" for errors (commander
 * prints its own usage messages) and sets process.exitCode.
 */
export async function runCli(program: Command, argv: readonly string[] = process.argv): Promise<number> {
  let code: number = ExitCode.Ok;
  try {
    await program.parseAsync([...argv]);
    code = typeof process.exitCode === 'number' ? process.exitCode : ExitCode.Ok;
  } catch (err) {
    code = exitCodeFor(err);
    if (!(err instanceof CommanderError)) {
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(`ftpkit: ${message}\n`);
      if (process.env.FTPKIT_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    }
  }
  process.exitCode = code;
  return code;
}
