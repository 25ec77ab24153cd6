/** Proxy URLs, curl's NO_PROXY rules, the environment variables and the CLI's --proxy/--no-proxy (docs/client.md#proxies). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProxyUrl, bypassesProxy, proxyFromEnvironment, maskProxyUrl } from '../../src/net/proxy/proxy-url.js';
import { proxyOptions } from '../../src/cli/client-options.js';
import { FtpUsageError } from '../../src/errors.js';

test('proxy URLs: schemes, default port, credentials masked in the display form', () => {
  assert.deepEqual(parseProxyUrl('socks5h://u:p%40ss@proxy.lan:9050'),
    { protocol: 'socks5h', host: 'proxy.lan', port: 9050, user: 'u', password: 'p@ss', display: 'socks5h://u:***@proxy.lan:9050' });
  assert.equal(parseProxyUrl('socks5://10.0.0.1').port, 1080);
  assert.equal(parseProxyUrl('proxy:3128').protocol, 'http');
  assert.equal(parseProxyUrl('http://[::1]:3128').display, 'http://[::1]:3128');
  assert.throws(() => parseProxyUrl('socks4://x:1'), FtpUsageError);
  assert.throws(() => parseProxyUrl('ftp://a:secret@x:1'), (e: Error) => !e.message.includes('secret'));
  assert.equal(maskProxyUrl('http://me:secret@p:1'), 'http://me:***@p:1');
});

test("NO_PROXY with curl's rules: *, suffixes with or without a leading dot, IPs, CIDR", () => {
  assert.equal(bypassesProxy('ftp.example.com', 'example.com'), true);
  assert.equal(bypassesProxy('ftp.example.com', '.example.com'), true);
  assert.equal(bypassesProxy('example.com', 'example.com'), true);
  assert.equal(bypassesProxy('badexample.com', 'example.com'), false);
  assert.equal(bypassesProxy('anything', '*'), true);
  assert.equal(bypassesProxy('10.1.2.3', 'localhost, 10.0.0.0/8'), true);
  assert.equal(bypassesProxy('11.1.2.3', '10.0.0.0/8'), false);
  assert.equal(bypassesProxy('::1', '::1'), true);
  assert.equal(bypassesProxy('ftp.example.com', undefined), false);
});

test('the environment: ftp_proxy before all_proxy, lower case first, no_proxy', () => {
  assert.deepEqual(proxyFromEnvironment({ ALL_PROXY: 'socks5h://a:1', ftp_proxy: 'http://b:2', NO_PROXY: 'x' }),
    { proxy: 'http://b:2', noProxy: 'x' });
  assert.deepEqual(proxyFromEnvironment({ all_proxy: 'socks5h://a:1', ALL_PROXY: 'socks5h://c:1' }), { proxy: 'socks5h://a:1' });
  assert.deepEqual(proxyFromEnvironment({}), {});
});

test('CLI: --proxy wins over the environment, --proxy "" turns it off, a bad URL is a usage error', () => {
  const env = { all_proxy: 'socks5h://env:1', no_proxy: 'internal' };
  assert.deepEqual(proxyOptions({}, env), { proxy: 'socks5h://env:1', noProxy: 'internal' });
  assert.deepEqual(proxyOptions({ proxy: 'http://flag:3128', noProxy: 'a,b' }, env), { proxy: 'http://flag:3128', noProxy: 'a,b' });
  assert.deepEqual(proxyOptions({ proxy: '' }, env), {});
  assert.throws(() => proxyOptions({ proxy: 'gopher://x' }, {}), FtpUsageError);
});
