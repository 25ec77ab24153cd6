/// <reference lib="dom" />
// (page.evaluate callbacks run in the browser: they use the DOM types.)
/**
 * `ftpkit doctor --html FILE` looked at in a real headless Chromium (Debian's chromium, driven by
 * puppeteer-core; no browser download): a doctor run against ftpkit's own server where active mode with a
 * foreign address is refused (the server's PORT/EPRT same-address rule, RFC 2577 s3), so the grid has
 * working and failing cells; a screenshot goes to the test's temp folder. The DOM must show the grid's
 * cells with their labels and states, a cell's evidence once expanded, and a hostile banner as plain text
 * (no script runs, no element is injected, nothing is fetched). Skips when chromium is not installed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { MemoryStorage } from '../../src/server/index.js';
import { startServer } from '../support/server-harness.js';
import { describeCli, runFtpkit } from '../support/ftpkit-cli.js';
import { CHROMIUM, NO_CHROMIUM, openPage } from '../support/chromium.js';

const HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">';

test('doctor --html in headless Chromium: grid, evidence on expand, hostile banner as text', {
  skip: CHROMIUM ? false : NO_CHROMIUM,
}, async t => {
  const storage = new MemoryStorage();
  storage.writeFile('/hello.txt', 'hello\n');
  const h = await startServer({ storage, options: { greeting: HOSTILE } });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ftpkit-doctor-html-'));
  t.after(async () => { await h.close(); await rm(dir, { recursive: true, force: true }); });

  const file = path.join(dir, 'report.html');
  // 192.0.2.7 (TEST-NET-1) is not this client's address: the server refuses PORT/EPRT to it.
  const r = await runFtpkit(['doctor', '--html', file, '--connect-timeout', '2s', '--port-address', '192.0.2.7', h.url]);
  assert.equal(r.code, 0, describeCli(r));
  const html = await readFile(file, 'utf8');
  assert.ok(!html.includes(HOSTILE), 'the banner is escaped in the file');

  const { page, requested: fetched } = await openPage(t, 1280);
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  const shot = path.join(dir, 'report.png');
  await page.screenshot({ path: shot, fullPage: true });
  assert.ok((await stat(shot)).size > 10_000, 'a screenshot was taken');
  if (process.env.FTPKIT_KEEP_SCREENSHOT) await (await import('node:fs/promises')).copyFile(shot, process.env.FTPKIT_KEEP_SCREENSHOT);

  const grid = await page.evaluate(() => {
    const cells = Array.from(document.querySelectorAll<HTMLTableCellElement>('#grid td.cell[data-cell]'));
    return {
      columns: Array.from(document.querySelectorAll('#grid tr:first-child th')).map(th => th.textContent),
      rows: Array.from(document.querySelectorAll('#grid tr th:first-child')).slice(1).map(th => th.textContent),
      cells: cells.map(td => ({ id: td.dataset.cell, state: td.dataset.state, short: td.querySelector('.short')?.textContent,
        colour: getComputedStyle(td).backgroundColor })),
    };
  });
  assert.deepEqual(grid.columns, ['data mode', 'cleartext']);
  assert.deepEqual(grid.rows, ['EPSV', 'PASV, reply address', 'PASV, control host', 'EPRT, local address', 'PORT, local address',
    'EPRT, public address', 'PORT, public address']);
  const byId = new Map(grid.cells.map(c => [c.id, c]));
  for (const id of ['epsv', 'pasv-reply', 'pasv-control', 'eprt-local', 'port-local']) {
    assert.equal(byId.get(id)?.state, 'ok', `${id}: ${JSON.stringify(byId.get(id))}`);
    assert.match(byId.get(id)!.short!, /^works, /);
  }
  for (const id of ['eprt-public', 'port-public']) {
    assert.equal(byId.get(id)?.state, 'fail', `${id}: ${JSON.stringify(byId.get(id))}`);
    assert.match(byId.get(id)!.short!, /^(EPRT|PORT): 5\d\d$/);
  }
  assert.notEqual(byId.get('epsv')!.colour, byId.get('eprt-public')!.colour, 'working and failing cells differ in colour');

  // Collapsed, a cell's evidence is hidden; a click on the cell's summary shows it.
  const evidence = '#grid td[data-cell="eprt-public"] pre.evidence';
  // (A closed <details> keeps its content's layout box in current Chromium: ask whether it is visible.)
  assert.equal(await page.$eval(evidence, el => el.checkVisibility()), false);
  await page.click('#grid td[data-cell="eprt-public"] summary');
  const shown = await page.$eval(evidence, el => ({ visible: el.checkVisibility(), text: el.textContent ?? '' }));
  assert.ok(shown.visible, 'the evidence is visible after the click');
  assert.match(shown.text, /EPRT \|1\|192\.0\.2\.7\|/);

  // The hostile banner: shown as text in the greeting step, nothing ran, nothing was injected or fetched.
  const dom = await page.evaluate(() => ({
    greeting: document.querySelector('tr[data-step="greeting"] .summary')?.textContent ?? '',
    scripts: document.querySelectorAll('script').length,
    images: document.querySelectorAll('img').length,
    pwned: (window as unknown as { __pwned?: number }).__pwned,
    timeline: document.querySelectorAll('#timeline tr.tl').length,
    findings: document.querySelector('#causes')?.textContent ?? '',
    recommended: document.querySelector('#recommended pre')?.textContent ?? '',
    userFixes: document.querySelector('#user-fixes')?.textContent ?? '',
  }));
  assert.ok(dom.greeting.includes(HOSTILE), dom.greeting);
  assert.equal(dom.scripts, 0);
  assert.equal(dom.images, 0);
  assert.equal(dom.pwned, undefined);
  assert.deepEqual(fetched.filter(u => !u.startsWith('file:')), [], 'nothing fetched at view time');
  assert.ok(dom.timeline >= 7 + 4, `a timeline row per step and cell (${dom.timeline})`);
  // Active mode from the local address works, so the refused foreign address is no problem to name.
  assert.equal(dom.findings, 'No problem found.');
  assert.match(dom.recommended, /"command": "epsv"/);
  assert.match(dom.userFixes, /curl --ftp-pasv/);
});
