#!/usr/bin/env node
/**
 * The `ftpkit` executable. Thin on purpose: every subcommand lives in its own module and registers here
 * with one line; program.ts turns errors into exit codes (exit-codes.ts).
 */
import { createProgram, runCli } from './program.js';
import { registerServe } from './serve.js';
import { registerHashPassword } from './hash-password.js';
import { registerDoctor } from './doctor.js';
import { registerClientCommands } from './client-commands.js';

const program = createProgram();
registerServe(program);
registerHashPassword(program);
registerDoctor(program);
registerClientCommands(program);
// A new command module registers here, one line each.

await runCli(program, process.argv);
