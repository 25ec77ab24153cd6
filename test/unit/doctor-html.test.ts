/**
 * The HTML report without a browser (test/socket/doctor-html-chromium.test.ts looks at it in Chromium):
 * whatever the server sent is escaped everywhere it is written, and the file fetches nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderHtml, escapeHtml } from '../../src/doctor/index.js';
import type { Finding } from '../../src/doctor/types.js';

const EVIL = `<script>alert(1)</script><img src=x onerror=alert(2)>"'&`;

test('renderHtml escapes server text in steps, cells, causes and fixes, and references nothing outside', () => {
  const spec = { id: 'epsv', label: 'EPSV', mode: 'passive', command: 'epsv', tls: false } as const;
  const f: Finding = { version: 1, target: { host: 'h.example', port: 21, user: 'u', secure: 'none', addresses: ['198.18.0.1'] },
    startedAt: new Date(0).toISOString(), elapsedMs: 100, budgetMs: 20000, truncated: false, works: [], recommended: undefined,
    steps: [{ id: 'greeting', title: 'greeting', outcome: { kind: 'ok', ms: 3 }, summary: `220 ${EVIL}`, evidence: [{ atMs: 1, text: EVIL }], at: { startMs: 0, endMs: 3 } }],
    matrix: [{ spec, outcome: { kind: 'reply', ms: 5, phase: 'EPSV', replyCode: 500, replyText: EVIL }, evidence: [{ atMs: 2, text: EVIL }], at: { startMs: 3, endMs: 8 } }],
    causes: [{ code: 'epsv-unsupported', side: 'server', title: EVIL, detail: EVIL, userFix: EVIL, adminFix: EVIL }] };
  const html = renderHtml(f);
  assert.ok(!html.includes(EVIL) && !html.includes('<script') && !html.includes('<img'), 'nothing of the server text is markup');
  assert.ok(html.includes(escapeHtml(EVIL)));
  assert.doesNotMatch(html, /<(img|script|link|iframe|object|embed|source)\b|url\(|https?:\/\//i, 'no external resource');
  assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
  assert.match(html, /data-cell="epsv" data-state="fail"/);
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
});
