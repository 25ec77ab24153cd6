/**
 * Why PASV/EPSV advertised what they did: the rule the passive-address resolver applied reaches the
 * 'command' event and the JSON-lines log (what `ftpkit serve` writes at the info level).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { JsonLogger } from '../../src/server/index.js';
import type { CommandEvent } from '../../src/server/index.js';
import { RawControl, startServer } from '../support/server-harness.js';

function jsonLog(server: Parameters<JsonLogger['attach']>[0]): () => Array<Record<string, unknown>> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => { text += c.toString(); });
  new JsonLogger({ level: 'info', stream: out }).attach(server);
  return () => text.split('\n').filter(Boolean).map(l => JSON.parse(l) as Record<string, unknown>);
}

test('PASV: the advertised address, the ports and the rule are in the command event and the log', async t => {
  const h = await startServer({ options: { passive: { portRange: { min: 30000, max: 39999 }, address: '192.0.2.44', advertisedPortRange: { min: 40000, max: 49999 } } } });
  t.after(() => h.close());
  const events: CommandEvent[] = [];
  h.server.on('command', e => events.push(e));
  const log = jsonLog(h.server);
  const c = await RawControl.login(h);
  t.after(() => c.close());

  const pasv = await c.send('PASV');
  assert.equal(pasv.code, 227);
  const ev = events.find(e => e.verb === 'PASV');
  assert.ok(ev?.passive, 'the PASV command event says what was advertised');
  const { address, port, listenPort, rule } = ev.passive;
  assert.deepEqual({ address, rule }, { address: '192.0.2.44', rule: 'passive.address' });
  assert.equal(port, listenPort + 10000, 'the listened port mapped onto the advertised range');
  assert.ok(pasv.text.includes(`192,0,2,44,${port >> 8},${port & 255}`), pasv.text);

  const epsv = await c.send('EPSV');
  assert.equal(epsv.code, 229);
  const epsvEvent = events.find(e => e.verb === 'EPSV');
  assert.deepEqual(epsvEvent?.passive && { rule: epsvEvent.passive.rule, hasAddress: 'address' in epsvEvent.passive },
    { rule: 'passive.advertisedPortRange', hasAddress: false });
  assert.ok(epsv.text.includes(`|||${epsvEvent!.passive!.port}|`));

  const logged = log().filter(l => l.event === 'command' && (l.command === 'PASV' || l.command === 'EPSV'));
  assert.deepEqual(logged.map(l => (l.passive as { rule: string }).rule), ['passive.address', 'passive.advertisedPortRange']);
  assert.deepEqual(logged[0].passive, ev.passive);
});

test('PASV without NAT settings names the local address rule; other commands carry no passive field', async t => {
  const h = await startServer();
  t.after(() => h.close());
  const events: CommandEvent[] = [];
  h.server.on('command', e => events.push(e));
  const c = await RawControl.login(h);
  t.after(() => c.close());
  assert.equal((await c.send('PASV')).code, 227);
  assert.equal((await c.send('EPSV')).code, 229);
  const byVerb = Object.fromEntries(events.map(e => [e.verb, e]));
  assert.equal(byVerb.PASV.passive?.rule, 'local');
  assert.equal(byVerb.PASV.passive?.address, '127.0.0.1');
  assert.equal(byVerb.EPSV.passive?.rule, 'listened port');
  assert.equal(byVerb.USER.passive, undefined);
  assert.ok(!('passive' in byVerb.PASS));
});
