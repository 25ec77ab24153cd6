/**
 * The FTPS server of the proxy lab (test/support/proxy-lab.ts), run inside a private network namespace:
 * our FtpServer on the namespace's own 127.0.0.1 (explicit TLS on the main port, implicit on a second),
 * unreachable from the test process except through a proxy that runs in the same namespace. Prints one
 * JSON line once listening; closes on SIGTERM.
 *
 * usage: node --import tsx test/support/proxy-lab-main.ts
 */
import { startFtpsTarget } from './tls-target.js';

const target = await startFtpsTarget();
target.server.on('transcript', (e) => process.stderr.write(`${e.sessionId} ${e.direction === 'in' ? '>' : '<'} ${e.line}\n`));
process.stdout.write(JSON.stringify({ port: target.port, implicitPort: target.implicitPort, root: target.root,
  user: target.user, password: target.password, caFile: target.caFile }) + '\n');
const stop = (): void => { target.stop().finally(() => process.exit(0)); };
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
