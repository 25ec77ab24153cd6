/// <reference lib="dom" />
// (page.evaluate callbacks run in the browser: they use the DOM types.)
/**
 * The admin status page (src/server/admin/, assets/admin/) in a real headless Chromium (Debian's chromium
 * driven by puppeteer-core; no browser download), fed by real curl transfers: one quick download, and one
 * throttled by the server's bandwidth cap so that it is seen in flight, by a user whose name is hostile
 * HTML of a file whose name is too. From the DOM: the session rows, the transfer's progress moving, the
 * chart updating, the hostile names shown as text (nothing ran, nothing injected); then "Disconnect",
 * confirmed in the page's own dialog, cuts the curl client; a ban from the page's form (cancelled once,
 * then confirmed) is listed with its time left, and lifted. A screenshot is kept in test-artifacts/
 * (ignored by git; its path is printed). Skips when chromium or curl is not installed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AdminServer, LocalStorage } from '../../src/server/index.js';
import { startServer } from '../support/server-harness.js';
import { REPO_ROOT } from '../support/ftpkit-cli.js';
import { tempDir } from '../support/temp-dir.js';
import { CHROMIUM, NO_CHROMIUM, openPage } from '../support/chromium.js';

const CURL = ['/usr/bin/curl', '/usr/local/bin/curl'].find(p => existsSync(p));
const TOKEN = 'page-test-token-0123456789';
const HOSTILE_USER = '<svg onload=window.__pwned=1>';
const HOSTILE_FILE = '<img src=x onerror=window.__pwned=2>.bin';
const SIZE = 3_000_000;
/** Bytes per second of each download: the big file takes about 10 s, the page sees it moving. */
const CAP = 300_000;

function curl(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise(resolve => {
    execFile(CURL!, ['-sS', '--max-time', '60', ...args], (error, _stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stderr });
    });
  });
}

test('status page in headless Chromium: sessions, a transfer moving, the chart, hostile names as text, disconnect', {
  skip: !CHROMIUM ? NO_CHROMIUM : !CURL ? 'curl is not installed' : false,
}, async t => {
  const dir = await tempDir(t, 'ftpkit-admin-page-');
  await writeFile(path.join(dir, HOSTILE_FILE), Buffer.alloc(SIZE, 7));
  await writeFile(path.join(dir, 'small.txt'), 'small file\n');
  const storage = await LocalStorage.open(dir);
  const h = await startServer({
    storage,
    users: { test: { password: 'test' }, [HOSTILE_USER]: { password: 'pw' } },
    options: { limits: { bandwidth: { download: CAP } } },
  });
  t.after(() => h.close());
  const admin = new AdminServer(h.server, { host: '127.0.0.1', port: 0, token: TOKEN }, { updateMs: 300 });
  await admin.listen();
  t.after(() => admin.close());

  // A quick download first (it is over before the page looks: the chart and the totals count it).
  const quick = await curl([`ftp://test:test@127.0.0.1:${h.port}/small.txt`, '-o', '/dev/null']);
  assert.equal(quick.code, 0, quick.stderr);
  // The throttled one runs while the page watches.
  const url = `ftp://127.0.0.1:${h.port}/${encodeURIComponent(HOSTILE_FILE)}`;
  const slow = spawn(CURL!, ['-sS', '--max-time', '120', '-u', `${HOSTILE_USER}:pw`, url, '-o', '/dev/null'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const slowExit = new Promise<number | null>(resolve => slow.on('close', code => resolve(code)));
  t.after(() => { slow.kill(); });

  const { page, requested } = await openPage(t, 1400);
  await page.goto(admin.url(), { waitUntil: 'load' });
  // Before the token: the login form, no data.
  assert.equal(await page.$eval('#app', el => (el as HTMLElement).hidden), true);
  await page.type('#token', TOKEN);
  await page.click('#login-button');
  await page.waitForSelector('#feed[data-state="live"]', { timeout: 20_000 });

  // The throttled transfer's row: its progress is read twice and must move.
  const progressSelector = 'tr[data-session] td.transfer[data-percent]';
  await page.waitForSelector(progressSelector, { timeout: 30_000 });
  const readRow = () => page.evaluate(sel => {
    const cell = document.querySelector<HTMLElement>(sel)!;
    const row = cell.closest('tr')!;
    return {
      id: row.dataset.session!, percent: Number(cell.dataset.percent), bytes: Number(cell.dataset.bytes),
      user: row.querySelector('td.user')?.textContent ?? '', address: row.querySelector('td.address')?.textContent ?? '',
      state: row.querySelector('td.state')?.textContent ?? '', command: row.querySelector('td.command')?.textContent ?? '',
      path: cell.querySelector('.path')?.textContent ?? '',
      chartOut: Number(document.querySelector<SVGElement>('#chart')!.dataset.bytesOut),
      bars: document.querySelectorAll('#chart rect').length,
    };
  }, progressSelector);
  const first = await readRow();
  await page.waitForFunction((sel, before) => {
    const cell = document.querySelector<HTMLElement>(sel);
    return cell !== null && Number(cell.dataset.percent) > before + 1;
  }, { timeout: 30_000 }, progressSelector, first.percent);
  await page.waitForFunction(before => Number(document.querySelector<SVGElement>('#chart')!.dataset.bytesOut) > before,
    { timeout: 30_000 }, first.chartOut);
  const second = await readRow();
  assert.equal(second.id, first.id);
  assert.ok(second.bytes > first.bytes, `bytes moved: ${first.bytes} -> ${second.bytes}`);
  assert.ok(second.percent < 100, 'still in flight');
  assert.equal(second.user, HOSTILE_USER);
  assert.match(second.address, /^127\.0\.0\.1:\d+$/);
  assert.equal(second.state, 'busy');
  assert.equal(second.command, 'RETR');
  assert.equal(second.path, `RETR /${HOSTILE_FILE}`);
  assert.equal(second.bars, 30, 'two bars per minute, 15 minutes');
  assert.ok(second.chartOut >= 11, 'the chart counts the quick download too');

  const dom = await page.evaluate(() => ({
    pwned: (window as unknown as { __pwned?: number }).__pwned,
    injected: document.querySelectorAll('main img, main svg:not(#chart), main script').length,
    sessions: document.querySelectorAll('#sessions tbody tr[data-session]').length,
    totalsOut: document.querySelector('[data-total="bytes out"]')?.textContent ?? '',
    health: document.querySelector('#health')?.textContent ?? '',
  }));
  assert.equal(dom.pwned, undefined, 'no script of a client ran');
  assert.equal(dom.injected, 0, 'no element was injected');
  assert.equal(dom.sessions, 1);
  assert.equal(dom.health, 'ready');
  assert.ok(requested.every(u => u.startsWith(admin.url())), `only this origin was asked: ${requested.filter(u => !u.startsWith(admin.url())).join(', ')}`);
  assert.ok(requested.every(u => !u.includes(TOKEN)), 'the token is in no URL');

  const artifacts = path.join(REPO_ROOT, 'test-artifacts');
  await mkdir(artifacts, { recursive: true });
  const shot = path.join(artifacts, 'admin-page.png');
  await page.screenshot({ path: shot, fullPage: true });
  assert.ok((await stat(shot)).size > 10_000, 'a screenshot was taken');
  t.diagnostic(`screenshot: ${shot}`);

  // Disconnect, confirmed in the page's dialog: the curl client is cut (non-zero exit) and the row goes.
  await page.click(`tr[data-session="${second.id}"] button[data-action="disconnect"]`);
  await page.waitForSelector('#confirm[open]', { timeout: 10_000 });
  assert.match(await page.$eval('#confirm-text', el => el.textContent ?? ''), /Disconnect .* from 127\.0\.0\.1\?/);
  await page.click('#confirm-yes');
  const code = await slowExit;
  assert.notEqual(code, 0, 'curl was cut');
  await page.waitForFunction(id => !document.querySelector(`tr[data-session="${id}"]`), { timeout: 20_000 }, second.id);
  assert.match(await page.$eval('#message', el => el.textContent ?? ''), /disconnected/);

  // Ban an address from the page's form, confirmed; the ban is listed with its time left; then unban it.
  await page.type('#ban-address', '192.0.2.44');
  await page.$eval('#ban-minutes', el => { (el as HTMLInputElement).value = '30'; });
  await page.click('#ban-button');
  await page.waitForSelector('#confirm[open]', { timeout: 10_000 });
  await page.click('#confirm-no');
  assert.equal(h.server.defender.bans().length, 0, 'cancelled: nothing done');
  await page.click('#ban-button');
  await page.waitForSelector('#confirm[open]', { timeout: 10_000 });
  await page.click('#confirm-yes');
  await page.waitForSelector('tr[data-ban="192.0.2.44"]', { timeout: 20_000 });
  const left = await page.$eval('tr[data-ban="192.0.2.44"]', el => Array.from(el.querySelectorAll('td')).map(td => td.textContent));
  assert.equal(left[0], 'address');
  assert.match(left[3] ?? '', /^(29|30)m \d+s$/);
  assert.deepEqual(h.server.defender.bans().map(b => b.key), ['192.0.2.44']);
  await page.click('tr[data-ban="192.0.2.44"] button[data-action="unban"]');
  await page.waitForSelector('#confirm[open]', { timeout: 10_000 });
  await page.click('#confirm-yes');
  await page.waitForFunction(() => !document.querySelector('tr[data-ban]'), { timeout: 20_000 });
  assert.equal(h.server.defender.bans().length, 0);
});
