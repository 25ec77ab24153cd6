/**
 * Runs our server as the interop target in its own process (test/support/peers-netns.ts starts it inside
 * a private network namespace): prints `{"port","root","host","user","password"}` as one JSON line on
 * stdout once listening, mirrors the server's transcript to stderr (kept by the parent for failure
 * messages), and closes gracefully on SIGTERM.
 *
 * usage: node --import tsx test/support/peers-target-main.ts LISTEN_HOST
 */
import { startTarget } from './peers-target.js';

const listenHost = process.argv[2];
const target = await startTarget({ family: listenHost?.includes(':') ? 6 : 4, listenHost });
target.server?.on('transcript', (e) => process.stderr.write(`${e.sessionId} ${e.direction === 'in' ? '>' : '<'} ${e.line}\n`));
target.server?.on('transfer-failed', (e) => process.stderr.write(`transfer-failed ${e.direction} ${e.path}: ${e.reason}\n`));
target.server?.on('warning', (e) => process.stderr.write(`warning ${e.code}: ${e.message}\n`));
process.stdout.write(JSON.stringify({ port: target.port, root: target.root, host: target.host, user: target.user, password: target.password }) + '\n');
const stop = () => { target.stop().finally(() => process.exit(0)); };
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
