import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlockList } from 'node:net';
import {
  PassiveAdvertiser, PassivePortMap, type PassiveWarning,
  activeConnectOptions, activeConnectError, validateActiveSource,
  parsePasvAddressMap, parsePortRangeMap,
} from '../../src/server/nat/index.js';
import { addressScope, isNonPublicAddress, NetworkSet } from '../../src/protocol/address-class.js';
import { FtpConfigError } from '../../src/errors.js';

const pub = { clientAddress: '::ffff:198.18.1.2', localAddress: '::ffff:10.0.20.2', listenPort: 30001 };
const lan = { clientAddress: '10.0.20.7', localAddress: '10.0.20.2', listenPort: 30001 };

test('address scopes', () => {
  assert.equal(addressScope('10.1.2.3'), 'private');
  assert.equal(addressScope('::ffff:192.168.1.1'), 'private');
  assert.equal(addressScope('172.31.255.255'), 'private');
  assert.equal(addressScope('172.32.0.1'), 'public');
  assert.equal(addressScope('100.64.0.1'), 'shared');
  assert.equal(addressScope('0.0.0.0'), 'unspecified');
  assert.equal(addressScope('127.0.0.1'), 'loopback');
  assert.equal(addressScope('fe80::1%eth0'), 'link-local');
  assert.equal(addressScope('fd00::1'), 'private');
  assert.equal(addressScope('2001:2::1'), 'public');
  assert.equal(addressScope('198.18.2.2'), 'public');
  assert.equal(addressScope('example.com'), undefined);
  assert.equal(addressScope('239.1.2.3'), 'reserved');
  assert.equal(addressScope('255.255.255.255'), 'reserved');
  assert.equal(isNonPublicAddress('10.0.0.1'), true);
  assert.equal(isNonPublicAddress('8.8.8.8'), false);
  const s = new NetworkSet(['10.0.0.0/8', '2001:db8::/32', '192.0.2.1']);
  assert.ok(s.has('::ffff:10.9.9.9'));
  assert.ok(s.has('2001:db8::5'));
  assert.ok(s.has('192.0.2.1'));
  assert.ok(!s.has('192.0.2.2'));
  assert.throws(() => new NetworkSet(['10.0.0.0/33']), RangeError);
});

test('an address scope is worked out once: asked again, no BlockList is checked', t => {
  const check = t.mock.method(BlockList.prototype, 'check');
  assert.equal(addressScope('198.51.100.77'), 'public');
  const first = check.mock.callCount();
  assert.ok(first > 0);
  assert.equal(addressScope('198.51.100.77'), 'public');
  assert.equal(addressScope('not an address'), undefined);
  assert.equal(addressScope('not an address'), undefined);
  assert.equal(check.mock.callCount(), first);
});

test('an empty NetworkSet answers false without asking its BlockList (the defender asks at every accept)', t => {
  const check = t.mock.method(BlockList.prototype, 'check');
  const empty = new NetworkSet([]);
  assert.equal(empty.has('192.0.2.1'), false);
  assert.equal(empty.has('::ffff:10.0.0.1'), false);
  assert.equal(check.mock.callCount(), 0);
  assert.ok(new NetworkSet(['192.0.2.0/24']).has('192.0.2.1'));
  assert.equal(check.mock.callCount(), 1);
});

test('no configuration: the local address, and a warning naming --pasv-address for a public client', async () => {
  const warnings: PassiveWarning[] = [];
  const r = new PassiveAdvertiser({}, { onWarning: w => warnings.push(w) });
  assert.equal(r.configured, false);
  assert.deepEqual(await r.pasv(pub), { host: '10.0.20.2', port: 30001, source: 'local' });
  assert.equal(warnings.length, 1);
  assert.equal(warnings[0].code, 'private-address-to-public-client');
  assert.equal(warnings[0].setting, '--pasv-address');
  assert.match(warnings[0].message, /10\.0\.20\.2.*198\.18\.1\.2.*--pasv-address/);
  await r.pasv(pub); // same pair: warned once
  assert.equal(warnings.length, 1);
  // A LAN client gets the local address without a warning.
  assert.equal((await r.pasv(lan)).host, '10.0.20.2');
  assert.equal(warnings.length, 1);
});

test('fixed address, with a LAN rule', async () => {
  const warnings: PassiveWarning[] = [];
  const r = new PassiveAdvertiser(
    { address: '198.18.2.2', addressMap: [{ networks: ['private'], address: 'local' }] },
    { onWarning: w => warnings.push(w) });
  assert.deepEqual(await r.pasv(pub), { host: '198.18.2.2', port: 30001, source: 'passive.address' });
  const l = await r.pasv(lan);
  assert.equal(l.host, '10.0.20.2');
  assert.match(l.source, /addressMap\[0\]/);
  assert.equal(warnings.length, 0);
});

test('rules: first match wins; IPv6 clients get no IPv4 address unless the control connection is IPv4', async () => {
  const r = new PassiveAdvertiser({
    address: '203.0.113.9',
    addressMap: [
      { networks: ['10.1.0.0/16'], address: '10.1.0.1' },
      { networks: ['10.0.0.0/8'], address: 'local' },
    ],
  });
  assert.equal((await r.pasv({ ...lan, clientAddress: '10.1.2.3' })).host, '10.1.0.1');
  assert.equal((await r.pasv({ ...lan, clientAddress: '10.2.2.3' })).host, '10.0.20.2');
  assert.equal((await r.pasv({ ...lan, clientAddress: '198.51.100.1' })).host, '203.0.113.9');
  assert.equal((await r.pasv({ clientAddress: '2001:2::1', localAddress: '2001:2::2', listenPort: 5 })).host, undefined);
});

test('hostname: resolved, cached, re-resolved when stale, last good kept on failure', async () => {
  let now = 0;
  let answer: string | Error = '198.18.2.2';
  let lookups = 0;
  const warnings: PassiveWarning[] = [];
  const r = new PassiveAdvertiser({ address: 'ftp.example.test', addressRefreshMs: 1000 }, {
    now: () => now,
    onWarning: w => warnings.push(w),
    lookup: async () => { lookups++; if (answer instanceof Error) throw answer; return answer; },
  });
  assert.equal((await r.pasv(pub)).host, '198.18.2.2');
  assert.equal((await r.pasv(pub)).host, '198.18.2.2');
  assert.equal(lookups, 1);
  // Stale: the reply still uses the cached address while the refresh runs in the background.
  now = 1500; answer = '198.18.2.3';
  assert.equal((await r.pasv(pub)).host, '198.18.2.2');
  await new Promise(setImmediate);
  assert.equal(lookups, 2);
  assert.equal((await r.pasv(pub)).host, '198.18.2.3');
  // Failure: last good address kept, one warning.
  now = 3000; answer = new Error('SERVFAIL');
  assert.equal((await r.pasv(pub)).host, '198.18.2.3');
  await new Promise(setImmediate);
  assert.equal((await r.pasv(pub)).host, '198.18.2.3');
  assert.equal(warnings.filter(w => w.code === 'hostname-resolution-failed').length, 1);
  assert.match(warnings[0].message, /keeping the last good address 198\.18\.2\.3/);
});

test('hostname never resolvable: falls back to the local address within the bound', async () => {
  const warnings: PassiveWarning[] = [];
  const r = new PassiveAdvertiser({ address: 'nowhere.invalid' }, {
    lookup: () => new Promise(() => {}), firstLookupTimeoutMs: 20, onWarning: w => warnings.push(w),
  });
  const a = await r.pasv(pub);
  assert.equal(a.host, '10.0.20.2');
  assert.match(a.source, /unresolved/);
  assert.equal(warnings[0]?.code, 'private-address-to-public-client');
});

test('port map: listened range -> advertised range, also for EPSV', async () => {
  const r = new PassiveAdvertiser({
    portRange: { min: 30000, max: 30009 }, advertisedPortRange: { min: 40000, max: 40009 }, address: '198.18.2.2',
  });
  assert.equal((await r.pasv({ ...pub, listenPort: 30003 })).port, 40003);
  assert.equal(r.epsvPort(30009), 40009);
  assert.equal(r.epsvPort(29999), 29999);
  assert.throws(() => new PassivePortMap({ min: 30000, max: 30009 }, { min: 40000, max: 40008 }),
    (e: unknown) => e instanceof FtpConfigError && e.key === 'passive.advertisedPortRange');
  assert.throws(() => new PassivePortMap(undefined, { min: 40000, max: 40008 }), FtpConfigError);
});

test('configuration errors name the key', () => {
  assert.throws(() => new PassiveAdvertiser({ address: '2001:db8::1' }),
    (e: unknown) => e instanceof FtpConfigError && e.key === 'passive.address');
  assert.throws(() => new PassiveAdvertiser({ addressMap: [{ networks: ['10.0.0.0/99'], address: 'local' }] }),
    (e: unknown) => e instanceof FtpConfigError && e.key === 'passive.addressMap.0.networks');
  assert.throws(() => new PassiveAdvertiser({ addressMap: [{ networks: ['10.0.0.0/8'], address: 'a b' }] }),
    (e: unknown) => e instanceof FtpConfigError && e.key === 'passive.addressMap.0.address');
});

test('CLI syntax for --pasv-address-map and --pasv-advertised-ports', () => {
  assert.deepEqual(parsePasvAddressMap('10.0.0.0/8, 192.168.0.0/16=local'),
    { networks: ['10.0.0.0/8', '192.168.0.0/16'], address: 'local' });
  assert.deepEqual(parsePasvAddressMap('private=10.0.20.2'), { networks: ['private'], address: '10.0.20.2' });
  for (const bad of ['10.0.0.0/8', '=1.2.3.4', 'nonsense=local', '10.0.0.0/8=']) {
    assert.throws(() => parsePasvAddressMap(bad), FtpConfigError, bad);
  }
  assert.deepEqual(parsePortRangeMap('40000-40009'), { min: 40000, max: 40009 });
  assert.deepEqual(parsePortRangeMap('40000'), { min: 40000, max: 40000 });
  assert.throws(() => parsePortRangeMap('5-1'), FtpConfigError);
});

test('active connect-back source: control local address by default, port 20 on request', () => {
  const t = { host: '::ffff:198.18.1.2', port: 50000, controlLocalAddress: '::ffff:10.0.20.2' };
  assert.deepEqual(activeConnectOptions({}, t), { host: '198.18.1.2', port: 50000, localAddress: '10.0.20.2' });
  assert.deepEqual(activeConnectOptions({ sourceAddress: '10.0.20.3', sourcePort: 20 }, t),
    { host: '198.18.1.2', port: 50000, localAddress: '10.0.20.3', localPort: 20 });
  // A configured IPv4 source is not used for an IPv6 client.
  assert.deepEqual(activeConnectOptions({ sourceAddress: '10.0.20.3' }, { host: '2001:2::1', port: 5, controlLocalAddress: '2001:2::2' }),
    { host: '2001:2::1', port: 5, localAddress: '2001:2::2' });
  assert.throws(() => validateActiveSource({ sourceAddress: 'x' }), FtpConfigError);
  assert.throws(() => validateActiveSource({ sourcePort: 70000 }), FtpConfigError);
  const eacces = Object.assign(new Error('bind EACCES'), { code: 'EACCES' });
  const e = activeConnectError(eacces, { host: '198.18.1.2', port: 50000, localPort: 20 }, 3);
  assert.equal(e.failure, 'permission');
  assert.equal(e.connection, 'data');
  assert.match(e.message, /port 20.*CAP_NET_BIND_SERVICE/);
});

test('seam adapter: implements the server\'s PassiveAddressResolver, warnings carry the client address', async () => {
  const { natPassiveAddressResolver } = await import('../../src/server/nat/index.js');
  const warnings: Array<{ code: string; remoteAddress?: string }> = [];
  const r = natPassiveAddressResolver({ portRange: { min: 30000, max: 30009 }, advertisedPortRange: { min: 40000, max: 40009 } },
    w => warnings.push(w));
  const a = await r.resolve({ controlLocalAddress: '10.0.20.2', clientAddress: '198.18.1.2', listenPort: 30002 });
  assert.deepEqual(a, { address: '10.0.20.2', port: 40002, rule: 'local' });
  assert.equal(r.resolvePort!({ controlLocalAddress: '10.0.20.2', clientAddress: '198.18.1.2', listenPort: 30005 }), 40005);
  assert.deepEqual(warnings.map(w => [w.code, w.remoteAddress]), [['private-address-to-public-client', '198.18.1.2']]);
  const fixed = natPassiveAddressResolver({ address: '198.18.2.2' });
  assert.equal((await fixed.resolve({ controlLocalAddress: '10.0.20.2', clientAddress: '198.18.1.2', listenPort: 30002 })).address, '198.18.2.2');
});
