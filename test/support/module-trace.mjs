// Test helper (`node --import tsx --import ./module-trace.mjs ...`): appends the URL of every module the
// process resolves, one per line, to the file named by FTPKIT_MODULE_TRACE. ESM has no require.cache to
// look at, so a resolve hook (module.register, run in the loader thread) records them; a file, because the
// hooks thread's output could be lost when the process exits. Used by test/socket/cli-startup.test.ts.
import { register } from 'node:module';

register(new URL('./module-trace-hooks.mjs', import.meta.url), { data: { file: process.env.FTPKIT_MODULE_TRACE } });
