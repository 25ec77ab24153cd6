import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyAddress, choosePasvTarget, DEFAULT_PASV_ADDRESS_POLICY } from '../../src/protocol/address-policy.js';

test('address classes', () => {
  const cases: Array<[string, string]> = [
    ['0.0.0.0', 'unspecified'], ['127.0.0.1', 'loopback'], ['10.0.20.2', 'private'], ['172.16.5.4', 'private'],
    ['172.32.0.1', 'public'], ['192.168.1.1', 'private'], ['100.64.0.1', 'shared'], ['169.254.1.1', 'link-local'],
    ['198.18.2.2', 'public'], ['8.8.8.8', 'public'], ['::1', 'loopback'], ['fd00::1', 'private'],
    ['fe80::1', 'link-local'], ['2001:db8::1', 'public'], ['::ffff:10.1.2.3', 'private'], ['ftp.example.com', 'hostname'],
  ];
  for (const [addr, cls] of cases) assert.equal(classifyAddress(addr), cls, addr);
});

test("policy 'reply' always uses the reply address", () => {
  const d = choosePasvTarget('reply', '10.0.20.2', '198.18.2.2');
  assert.equal(d.host, '10.0.20.2');
  assert.equal(d.replaced, false);
  assert.equal(d.source, 'PASV reply address');
});

test("policy 'control' always uses the control host", () => {
  const d = choosePasvTarget('control', '198.18.9.9', '::ffff:198.18.2.2');
  assert.equal(d.host, '198.18.2.2');
  assert.equal(d.source, 'control host');
  assert.equal(d.replaced, true);
  assert.equal(d.reason, "PASV reply names 198.18.9.9; using the control connection's host 198.18.2.2 (--pasv-host reply to use it)");
  assert.match(choosePasvTarget('control', '198.18.2.2', '198.18.2.2').reason, /is the control host \(addressPolicy control\)/);
});

test("the default policy is 'control' (CVE-2020-8284: a hostile 227 must not pick the data host)", () => {
  assert.equal(DEFAULT_PASV_ADDRESS_POLICY, 'control');
});

test("policy 'auto' replaces a private/unspecified address when the control host is public", () => {
  const d = choosePasvTarget('auto', '10.0.20.2', '198.18.2.2');
  assert.equal(d.host, '198.18.2.2');
  assert.equal(d.replaced, true);
  assert.equal(d.reason, 'PASV reply address 10.0.20.2 is private but the control host 198.18.2.2 is public: connecting to 198.18.2.2 (addressPolicy auto)');
  // vsftpd over IPv6 answers 0,0,0,0
  assert.equal(choosePasvTarget('auto', '0.0.0.0', '::1').host, '::1');
  // loopback advertised to a remote client
  assert.equal(choosePasvTarget('auto', '127.0.0.1', '10.1.1.1').host, '10.1.1.1');
});

test("policy 'auto' keeps the reply address when it is routable or when both are private", () => {
  assert.equal(choosePasvTarget('auto', '198.18.9.9', '198.18.2.2').host, '198.18.9.9'); // data served elsewhere
  assert.equal(choosePasvTarget('auto', '10.0.0.6', '10.0.0.5').host, '10.0.0.6');       // same LAN
  assert.equal(choosePasvTarget('auto', '127.0.0.1', '127.0.0.1').replaced, false);
});
