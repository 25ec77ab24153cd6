/**
 * The `tls` config section and `serve --tls` flags (src/server/tls/config.ts): validation errors that name
 * the key, mapping onto FtpServerTlsOptions, and a server started from the mapped options with the
 * generated self-signed certificate (state dir), reached over explicit and implicit TLS by our client.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { tlsConfigSchema, tlsConfigToOptions, tlsFlagsToConfig, defaultTlsStateDir } from '../../src/server/tls/config.js';
import { SELF_SIGNED_CERT_FILE } from '../../src/server/tls/certificates.js';
import { FtpClient } from '../../src/client/ftp-client.js';
import { startServer } from '../support/server-harness.js';

function issues(input: unknown): string[] {
  const r = tlsConfigSchema.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

test('schema: bad values and unknown keys are errors naming the key', () => {
  assert.deepEqual(issues({ cert: 'a.pem', key: 'a.key', require: 'data', implicitPort: 990, handshakeTimeout: '5s' }), []);
  assert.match(issues({ require: 'always' }).join(), /^require: expected "none", "login" or "data"/);
  assert.match(issues({ minVersion: 'TLSv1' }).join(), /^minVersion: .*insecure/);
  assert.match(issues({ certfile: 'x' }).join(), /certfile/);
  assert.match(issues({ key: 'k.pem' }).join(), /^cert: tls.key needs tls.cert/);
  assert.match(issues({ explicit: false }).join(), /^implicitPort: /);
  assert.match(issues({ users: { bob: 'maybe' } }).join(), /^users\.bob: /);
  assert.match(issues({ handshakeTimeout: 'soon' }).join(), /^handshakeTimeout: /);
});

test('mapping: paths resolved, one PEM file for both, self-signed state dir by default, durations', () => {
  const o = tlsConfigToOptions(tlsConfigSchema.parse({ cert: 'both.pem', require: 'login', users: { a: 'data' }, handshakeTimeout: 2.5, allowCcc: true }), (p) => `/etc/ftpkit/${p}`);
  assert.equal(o.allowCcc, true);
  assert.equal(o.certFile, '/etc/ftpkit/both.pem');
  assert.equal(o.keyFile, '/etc/ftpkit/both.pem');
  assert.equal(o.require, 'login');
  assert.deepEqual(o.users, { a: 'data' });
  assert.equal(o.handshakeTimeoutMs, 2500);
  const saved = process.env.XDG_STATE_HOME;
  process.env.XDG_STATE_HOME = '/var/lib/x';
  try {
    assert.equal(defaultTlsStateDir(), '/var/lib/x/ftpkit');
    assert.equal(tlsConfigToOptions(tlsConfigSchema.parse({}), (p) => p).stateDir, '/var/lib/x/ftpkit');
  } finally {
    if (saved === undefined) delete process.env.XDG_STATE_HOME; else process.env.XDG_STATE_HOME = saved;
  }
  assert.equal(tlsConfigToOptions(tlsConfigSchema.parse({ handshakeTimeout: '300ms' })).handshakeTimeoutMs, 300);
});

test('flags: --tls explicit|implicit|required, --cert/--key, --implicit-port', () => {
  assert.equal(tlsFlagsToConfig({}), undefined);
  assert.deepEqual(tlsFlagsToConfig({ tls: 'explicit' }), {});
  assert.deepEqual(tlsFlagsToConfig({ tls: 'implicit' }), { implicitPort: 990 });
  assert.deepEqual(tlsFlagsToConfig({ tls: 'implicit', implicitPort: 0 }), { implicitPort: 0 });
  assert.deepEqual(tlsFlagsToConfig({ tls: 'required', cert: 'c.pem', key: 'k.pem' }), { cert: 'c.pem', key: 'k.pem', require: 'data', requireAnonymous: 'data' });
});

test('a server from the mapped options generates its certificate into the state dir; clients trusting it connect (explicit and implicit)', { timeout: 30_000 }, async (t) => {
  const state = await fsp.mkdtemp(path.join(os.tmpdir(), 'ftpkit-tls-config-'));
  t.after(() => fsp.rm(state, { recursive: true, force: true }));
  const tls = tlsConfigToOptions(tlsConfigSchema.parse({ stateDir: state, implicitPort: 0, require: 'data' }));
  const h = await startServer({ options: { tls } });
  t.after(() => h.close());
  const caFile = path.join(state, SELF_SIGNED_CERT_FILE);
  await fsp.access(caFile);
  for (const secure of ['explicit', 'implicit'] as const) {
    const c = new FtpClient({
      host: 'localhost', port: secure === 'implicit' ? h.server.implicitAddress()!.port : h.port, secure,
      user: 'test', password: 'test', tls: { caFile }, timeouts: { greetingMs: 5000, dataMs: 5000 },
    });
    t.after(() => c.destroy());
    await c.connect();
    assert.deepEqual(await c.nameList('/'), []);
    await c.close();
  }
});
