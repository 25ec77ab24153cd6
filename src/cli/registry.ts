/**
 * The `ftpkit` program with every subcommand registered, one line each. Each register* module only declares
 * its command (arguments, flags, help) and imports what the command does when it runs, so building this
 * program stays cheap (start-up, issue 10; test/socket/cli-startup.test.ts).
 */
import type { Command } from 'commander';
import { createProgram } from './program.js';
import { registerServe } from './serve-command.js';
import { registerHashPassword } from './hash-password.js';
import { registerDoctor } from './doctor-command.js';
import { registerClientCommands } from './client-commands.js';
import { registerDatabaseCommands } from './db-command.js';
import { registerWho } from './who-command.js';
import { registerBookmark } from './bookmark-command.js';

export function buildProgram(): Command {
  const program = createProgram();
  registerServe(program);
  registerHashPassword(program);
  registerDoctor(program);
  registerClientCommands(program);
  registerDatabaseCommands(program);
  registerWho(program);
  registerBookmark(program);
  // A new command module registers here, one line each; keep its heavy imports in the action's module.
  return program;
}
