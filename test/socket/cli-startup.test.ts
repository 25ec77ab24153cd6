/**
 * CLI start-up (issue 10): each subcommand loads only what it uses. The real CLI is spawned with a resolve
 * hook (test/support/module-trace.mjs) that records every module loaded; `--version` must not load the CLI
 * framework nor anything heavy, `--help` none of the server, client, doctor, configuration schema (zod,
 * yaml) or certificate (selfsigned) code, and `ls` the client but not the server, the doctor, the tree
 * code, nor what only some client commands use (SOCKS, TLS, segmented, FXP, verify). No timing is
 * asserted: what is loaded is what costs (bench/ measures the time).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../support/temp-dir.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = path.join(REPO, 'src/cli/main.ts');
const TRACE = fileURLToPath(new URL('../support/module-trace.mjs', import.meta.url));

/**
 * What a plain-FTP client command does not use: the SOCKS package (a proxy), node:tls and the TLS code (FTPS),
 * segmented downloads, FXP, verification and active mode through SOCKS; each loads when used.
 */
const CLIENT_FEATURES = [
  /\/node_modules\/socks\//, /^node:tls$/, /\/src\/net\/tls-client\.ts$/,
  /\/src\/client\/(segmented|fxp|verify|active-socks)\.ts$/,
];

/** Never loaded by a command that does not use them. */
const HEAVY = [
  /\/node_modules\/selfsigned\//, /\/node_modules\/yaml\//, /\/node_modules\/zod\//, /\/node_modules\/cli-progress\//,
  /\/src\/doctor\//, /\/src\/server\/ftp-server\.ts$/, /\/src\/server\/config\//, /\/src\/server\/tls\//,
];

async function loadedModules(t: { after(fn: () => unknown): void }, args: string[]): Promise<{ code: number | null; modules: string[]; stderr: string }> {
  const dir = await tempDir(t);
  const traceFile = path.join(dir, 'modules.txt');
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', TRACE, MAIN, ...args], {
    cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, FTPKIT_MODULE_TRACE: traceFile, HOME: dir, FTPKIT_PASSWORD: '' },
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  const text = await readFile(traceFile, 'utf8').catch(() => '');
  return { code, stderr, modules: [...new Set(text.split('\n').filter(Boolean))] };
}

function loadedMatching(modules: string[], patterns: RegExp[]): string[] {
  return modules.filter((m) => patterns.some((p) => p.test(m)));
}

test('--version loads neither the CLI framework nor any command', async (t) => {
  const r = await loadedModules(t, ['--version']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.modules.some((m) => m.endsWith('/src/cli/main.ts')), 'the trace saw the CLI start');
  assert.deepEqual(loadedMatching(r.modules, [...HEAVY, /\/node_modules\/commander\//, /\/src\/(client|server)\//]), []);
});

test('--help loads the command declarations only', async (t) => {
  const r = await loadedModules(t, ['--help']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.modules.some((m) => m.includes('/node_modules/commander/')), 'the trace saw commander');
  assert.deepEqual(loadedMatching(r.modules, [...HEAVY, /\/src\/client\//, /\/src\/cli\/(serve|doctor|client-actions)\.ts$/]), []);
});

test('ls loads the plain client, not the server, the doctor, the tree code, SOCKS, TLS or the optional features', async (t) => {
  // A server that refuses at once (RFC 959 s4.2: 421 closes the connection): the command runs its whole
  // client path and fails; port 0, nothing fixed.
  const server = createServer((socket) => socket.end('421 Service not available\r\n'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  const r = await loadedModules(t, ['ls', `ftp://127.0.0.1:${port}/`]);
  assert.notEqual(r.code, 0, 'the 421 ends the command with an error');
  assert.match(r.stderr, /421/);
  assert.ok(r.modules.some((m) => m.endsWith('/src/client/ftp-client.ts')), 'ls loaded the client');
  assert.deepEqual(loadedMatching(r.modules, [...HEAVY, ...CLIENT_FEATURES, /\/src\/client\/tree\//]), []);
});
