// ftp-srv (npm, a Node FTP server) for ftpkit's tests, started as a child by test/support/peers-ftp-srv.ts.
// It serves ROOT to one named user (password from FTPKIT_PEER_PASSWORD, never argv) with explicit TLS when
// --cert/--key are given, and prints "listening PORT" once the control port is open (port 0: a free one).
// Runs as a child process because ftp-srv installs its own SIGINT/SIGTERM handlers.
'use strict';
const { createRequire } = require('node:module');
const fs = require('node:fs');

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const ftpSrvRequire = createRequire(require.resolve('ftp-srv'));
const { FtpSrv } = require('ftp-srv');
const bunyan = ftpSrvRequire('bunyan');

// ftp-srv 4.6.3 swaps the control socket for TLS only after its 234 reply has been written and a
// bluebird turn has passed: a client quick to send its ClientHello (ours, curl) has it read as a command,
// and the session fails on the control connection, by chance. That race is not what the tests here are
// about (data connections), so AUTH TLS is answered and the socket swapped in one synchronous step.
const auth = ftpSrvRequire('./src/commands/registration/auth.js');
const tlsModule = require('node:tls');
const originalAuth = auth.handler;
auth.handler = function handler(ctx) {
  if (!/^tls$/i.test(ctx.command.arg ?? '') || !this.server.options.tls || this.secure) return originalAuth.call(this, ctx);
  const plain = this.commandSocket;
  plain.write('234 Honored\r\n');
  const secureSocket = new tlsModule.TLSSocket(plain, {
    isServer: true, secureContext: tlsModule.createSecureContext(this.server.options.tls),
  });
  for (const event of ['data', 'timeout', 'end', 'close', 'drain', 'error']) {
    secureSocket.on(event, (...a) => plain.emit(event, ...a));
  }
  this.commandSocket = secureSocket;
  this.secure = true;
  return Promise.resolve();
};

const host = args.host ?? '127.0.0.1';
const tls = args.cert ? { cert: fs.readFileSync(args.cert), key: fs.readFileSync(args.key) } : false;
const server = new FtpSrv({
  url: `ftp://${host}:0`,
  pasv_url: host,
  pasv_min: Number(args['pasv-min']),
  pasv_max: Number(args['pasv-max']),
  tls,
  greeting: 'ftp-srv (ftpkit test peer) ready.',
  log: bunyan.createLogger({ name: 'ftp-srv', level: process.env.FTPKIT_FTP_SRV_LOG ?? 'warn', stream: process.stderr }),
});
const user = args.user ?? 'ftpkit';
const password = process.env.FTPKIT_PEER_PASSWORD ?? 'ftpkit-secret';
server.on('login', ({ username, password: given }, resolve, reject) => {
  if (username === user && given === password) resolve({ root: args.root });
  else reject(new Error('bad login'));
});
server.listen().then(() => {
  process.stdout.write(`listening ${server.server.address().port}\n`);
});
