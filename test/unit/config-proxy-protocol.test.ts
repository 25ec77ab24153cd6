/**
 * The proxyProtocol option and config section (src/server/proxy/options.ts, config.ts;
 * docs/server.md#behind-a-load-balancer): the YAML section reaches FtpServerOptions, defaults per listener,
 * bad values name their key, and a reload reports it as needing a restart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from '../../src/server/config/load.js';
import { planServe } from '../../src/server/config/to-options.js';
import { resolveProxyProtocol } from '../../src/server/proxy/options.js';
import { FtpServer, MemoryStorage, AnonymousAuthenticator, FtpConfigError } from '../../src/server/index.js';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

/** `fn` throws an FtpConfigError naming `key`. */
function throwsKey(fn: () => unknown, key: string): void {
  assert.throws(fn, (err: unknown) => err instanceof FtpConfigError && err.key === key, `expected an FtpConfigError naming ${key}`);
}

test('the proxyProtocol section maps onto options.proxyProtocol (headerTimeout in ms)', () => {
  const plan = planServe(validateConfig({ proxyProtocol: { from: ['10.0.0.10', '10.1.0.0/16'], passive: 'optional', headerTimeout: '750ms' } }), '/srv');
  assert.deepEqual(plan.options.proxyProtocol, { from: ['10.0.0.10', '10.1.0.0/16'], passive: 'optional', headerTimeoutMs: 750 });
  assert.equal(planServe(validateConfig({}), '/srv').options.proxyProtocol, undefined, 'no section: off');
});

test('config errors name the key', () => {
  throwsKey(() => validateConfig({ proxyProtocol: { from: ['10.0.0.300'] } }), 'proxyProtocol.from.0');
  throwsKey(() => validateConfig({ proxyProtocol: { from: [] } }), 'proxyProtocol.from');
  throwsKey(() => validateConfig({ proxyProtocol: { mode: 'required' } }), 'proxyProtocol.from');
  throwsKey(() => validateConfig({ proxyProtocol: { from: ['10.0.0.10'], control: 'always' } }), 'proxyProtocol.control');
  throwsKey(() => validateConfig({ proxyProtocol: { from: ['10.0.0.10'], headerTimeout: 0 } }), 'proxyProtocol.headerTimeout');
  throwsKey(() => validateConfig({ proxyProtocol: { from: ['10.0.0.10'], sendProxy: true } }), 'proxyProtocol.sendProxy');
});

test('resolved: every listener required by default, each overridable; all off is no PROXY protocol at all', () => {
  const r = resolveProxyProtocol({ from: ['10.0.0.10'], implicit: 'off' })!;
  assert.deepEqual(r.modes, { control: 'required', implicit: 'off', passive: 'required' });
  assert.equal(r.headerTimeoutMs, 5000);
  assert.ok(r.from.has('::ffff:10.0.0.10') && !r.from.has('10.0.0.11'));
  assert.equal(resolveProxyProtocol({ from: [], mode: 'off' }), undefined);
  assert.equal(resolveProxyProtocol(undefined), undefined);
  throwsKey(() => resolveProxyProtocol({ from: [] }), 'proxyProtocol.from');
  throwsKey(() => resolveProxyProtocol({ from: ['nope'] }), 'proxyProtocol.from');
  throwsKey(() => resolveProxyProtocol({ from: ['10.0.0.10'], mode: 'on' as 'off' }), 'proxyProtocol.mode');
  throwsKey(() => resolveProxyProtocol({ from: ['10.0.0.10'], headerTimeoutMs: 0 }), 'proxyProtocol.headerTimeoutMs');
});

test('FtpServer refuses a bad proxyProtocol at construction; a reload reports a change as needing a restart', async () => {
  const authenticator = new AnonymousAuthenticator({ storage: new MemoryStorage() });
  assert.throws(() => new FtpServer({ port: 0, authenticator, proxyProtocol: { from: [] } }), FtpConfigError);
  const s = new FtpServer({ port: 0, authenticator, proxyProtocol: { from: ['10.0.0.10'] } });
  const result = await s.reconfigure({ proxyProtocol: { from: ['10.0.0.20'] }, greeting: 'hi' });
  assert.deepEqual(result.needsRestart, ['proxyProtocol']);
  assert.deepEqual(result.applied, ['greeting']);
  const same = await s.reconfigure({ proxyProtocol: { from: ['10.0.0.10'] } });
  assert.deepEqual(same.needsRestart, [], 'unchanged: nothing to restart');
});

test('the node configurations of docs/configuration.md and docs/server.md (behind a load balancer) are valid', async () => {
  for (const [doc, heading] of [['configuration.md', '### `proxyProtocol`'], ['server.md', '## Behind a load balancer']]) {
    const text = await readFile(fileURLToPath(new URL(`../../docs/${doc}`, import.meta.url)), 'utf8');
    const section = text.slice(text.indexOf(heading));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
    assert.ok(yaml, `a YAML block in ${doc} under ${heading}`);
    const options = planServe(validateConfig(parseYaml(yaml)), '/srv').options;
    assert.deepEqual(options.proxyProtocol, { from: ['10.0.0.10'] }, doc);
    assert.deepEqual(options.passive?.portRange, { min: 50000, max: 50099 }, doc);
  }
});
