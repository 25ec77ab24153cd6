// A minimal inetd for ftpkit's tests: listens on HOST:0, prints "listening PORT", and runs the given
// command once per accepted connection with the socket as its standard input and output, as inetd(8)
// does. inetutils-ftpd has no option for its port in daemon mode; run this way it serves any port.
'use strict';
const net = require('node:net');
const { spawn } = require('node:child_process');

const [host, cmd, ...args] = process.argv.slice(2);
const server = net.createServer({ pauseOnConnect: true }, (socket) => {
  const child = spawn(cmd, args, { stdio: [socket, socket, 'inherit'] });
  child.on('error', (err) => { process.stderr.write(`inetd: ${err.message}\n`); socket.destroy(); });
  // The child owns the connection now; this process keeps no reference that would hold it open.
  child.on('spawn', () => socket.destroy());
});
server.listen(0, host, () => process.stdout.write(`listening ${server.address().port}\n`));
