/**
 * Sessions without sockets (DESIGN.md principle 16): FtpServer.handleConnection() on an in-memory Duplex
 * pair, plus the command table's composition and gates, and the storage-error -> reply mapping.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import { FtpServer, FtpStorageError, MemoryStorage, READ_WRITE } from '../../src/server/index.js';
import type { CommandModule, StorageFailure } from '../../src/server/index.js';
import { CommandTable } from '../../src/server/command-table.js';
import { defaultCommandModules } from '../../src/server/commands/index.js';
import { storageErrorReply } from '../../src/server/storage-replies.js';
import { InvalidPathError } from '../../src/protocol/paths.js';
import { reply } from '../../src/protocol/reply.js';

/** Two connected in-memory Duplex ends. */
function duplexPair(): [Duplex, Duplex] {
  let a!: Duplex;
  let b!: Duplex;
  const make = (peer: () => Duplex): Duplex => new Duplex({
    read() {},
    write(chunk, _enc, cb) { peer().push(chunk); cb(); },
    final(cb) { peer().push(null); cb(); },
  });
  a = make(() => b);
  b = make(() => a);
  return [a, b];
}

/** A minimal client on an in-memory end: send a line, get the next reply line(s). */
function client(end: Duplex): { send(line: string): Promise<string>; next(): Promise<string> } {
  let buf = '';
  const waiting: Array<(s: string) => void> = [];
  const ready: string[] = [];
  let pending: string[] = [];
  end.setEncoding('utf8');
  end.on('data', (d: string) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\r\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 2);
      pending.push(line);
      if (/^\d{3} /.test(line)) {
        const whole = pending.join('\n');
        pending = [];
        const w = waiting.shift();
        if (w) w(whole); else ready.push(whole);
      }
    }
  });
  const next = (): Promise<string> => {
    const r = ready.shift();
    return r !== undefined ? Promise.resolve(r) : new Promise(resolve => waiting.push(resolve));
  };
  return { next, send(line) { end.write(`${line}\r\n`); return next(); } };
}

function newServer(modules: CommandModule[] = []): { server: FtpServer; storage: MemoryStorage } {
  const storage = new MemoryStorage();
  const server = new FtpServer({
    authenticator: { authenticate: async (u, p) => (u === 'u' && p === 'p' ? { name: 'u', storage, permissions: { ...READ_WRITE } } : null) },
    limits: { loginFailureDelayMs: 0 },
  }, { commandModules: modules });
  return { server, storage };
}

const INFO = { remoteAddress: '192.0.2.10', remotePort: 40000, localAddress: '192.0.2.1', localPort: 21 };

test('a session runs on an in-memory Duplex', async () => {
  const { server, storage } = newServer();
  storage.writeFile('/a.txt', 'abc');
  const [serverEnd, clientEnd] = duplexPair();
  const session = server.handleConnection(serverEnd, INFO);
  const c = client(clientEnd);
  assert.match(await c.next(), /^220 /);
  assert.match(await c.send('USER u'), /^331 /);
  assert.match(await c.send('PASS p'), /^230 /);
  assert.equal(await c.send('SIZE a.txt'), '213 3');
  assert.equal(await c.send('PWD'), '257 "/" is the current directory');
  assert.equal(session.remoteAddress, '192.0.2.10');
  assert.match(await c.send('QUIT'), /^221 /);
  await session.closedPromise();
  assert.equal(server.sessionCount, 0);
});

test('a module can add a command and a gate, and replace a row', async () => {
  const calls: string[] = [];
  const mod: CommandModule = {
    name: 'extra',
    commands: [
      { verb: 'HOST', needsLogin: false, argument: 'required', help: 'HOST <sp> name', feat: ['HOST'], handler: (_s, arg) => reply(220, `hello ${arg}`) },
      { verb: 'SYST', needsLogin: false, argument: 'none', help: 'SYST', handler: () => reply(215, 'Custom') },
    ],
    gates: [(_s, spec) => { calls.push(spec.verb); return spec.verb === 'NOOP' ? reply(534, 'refused by gate') : undefined; }],
  };
  const { server } = newServer([mod]);
  const [serverEnd, clientEnd] = duplexPair();
  server.handleConnection(serverEnd, INFO);
  const c = client(clientEnd);
  await c.next();
  assert.equal(await c.send('HOST example.org'), '220 hello example.org');
  assert.equal(await c.send('SYST'), '215 Custom');
  assert.equal(await c.send('NOOP'), '534 refused by gate');
  assert.match(await c.send('FEAT'), /\n HOST\n/);
  assert.deepEqual(calls, ['HOST', 'SYST', 'NOOP', 'FEAT']);
  await server.close();
  assert.equal(server.sessionCount, 0);
});

test('the command table: aliases, every row has HELP text, verbs are unique', () => {
  const table = new CommandTable([...defaultCommandModules]);
  assert.equal(table.lookup('XPWD'), table.lookup('PWD'));
  assert.equal(table.lookup('XCUP'), table.lookup('CDUP'));
  assert.equal(table.lookup('XMKD'), table.lookup('MKD'));
  assert.equal(table.lookup('XRMD'), table.lookup('RMD'));
  assert.equal(table.lookup('XCWD'), table.lookup('CWD'));
  const verbs = table.verbs();
  assert.equal(new Set(verbs).size, verbs.length);
  for (const spec of table.specs) assert.ok(spec.help.startsWith(spec.verb), spec.verb);
  for (const v of ['USER', 'PASS', 'ACCT', 'QUIT', 'REIN', 'NOOP', 'SYST', 'HELP', 'STAT', 'FEAT', 'OPTS', 'CWD', 'CDUP', 'PWD',
    'MKD', 'RMD', 'DELE', 'RNFR', 'RNTO', 'LIST', 'NLST', 'MLSD', 'MLST', 'SIZE', 'MDTM', 'MFMT', 'RETR', 'STOR', 'STOU', 'APPE',
    'REST', 'ALLO', 'ABOR', 'TYPE', 'MODE', 'STRU', 'PORT', 'PASV', 'EPRT', 'EPSV', 'SITE', 'AVBL', 'HASH']) {
    assert.ok(table.lookup(v), v);
  }
  // Only ABOR, STAT and NOOP may run during a transfer.
  assert.deepEqual(table.specs.filter(s => s.duringTransfer).map(s => s.verb).sort(), ['ABOR', 'NOOP', 'STAT']);
});

test('storage failures map to reply codes in one place, without OS text', () => {
  const expected: Record<StorageFailure, number> = {
    'not-found': 550, exists: 550, 'not-a-directory': 550, 'is-a-directory': 550, 'not-empty': 550, permission: 550,
    'invalid-name': 553, 'no-space': 452, quota: 552, transient: 450, 'not-supported': 502, io: 451,
  };
  for (const [failure, code] of Object.entries(expected)) {
    const r = storageErrorReply(new FtpStorageError(failure as StorageFailure, 'ENOENT: /srv/secret/host/path'), '/v');
    assert.equal(r.code, code, failure);
    assert.ok(!r.lines.join(' ').includes('/srv/secret'), 'no OS text');
    assert.match(r.lines[0], /^\/v: /);
  }
  assert.equal(storageErrorReply(new InvalidPathError('nul')).code, 553);
  const other = storageErrorReply(new Error('EIO: /host/disk/failed'));
  assert.equal(other.code, 451);
  assert.ok(!other.lines[0].includes('/host'));
});
