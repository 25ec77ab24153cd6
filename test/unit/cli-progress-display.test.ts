// The CLI's progress bars on a terminal: the ETA column is filled in (it printed a literal "{eta_h}"), and
// a result line printed while bars are drawn goes above them instead of being overwritten by the redraw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { escapeControls, formatEta, ProgressDisplay } from '../../src/cli/client-output.js';
import type { ProgressEvent } from '../../src/client/events.js';

class FakeTty extends Writable {
  isTTY = true;
  columns = 120;
  rows = 30;
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void { this.text += chunk.toString(); cb(); }
}

const event = (bytes: number, done = false): ProgressEvent => ({
  direction: 'download', path: 'big.bin', bytes, startOffset: 0, total: 1000, bytesPerSecond: 100,
  etaSeconds: (1000 - bytes) / 100, done,
});

test('formatEta', () => {
  assert.equal(formatEta(4.2), '5s');
  assert.equal(formatEta(125), '2m05s');
  assert.equal(formatEta(3720), '1h02m');
});

test('bars show the ETA; a result line goes above the bars, on the terminal, once', () => {
  const stderr = new FakeTty();
  const stdout = new FakeTty();
  const p = new ProgressDisplay(stderr, true);
  p.update(event(500));
  p.update(event(1000, true));
  p.print('big.bin -> big.bin: 1000 B', stdout);
  p.stop();
  assert.doesNotMatch(stderr.text, /\{eta_h\}/);
  assert.equal(stdout.text, '', 'a direct stdout write would be overwritten by the next redraw of the bars');
  assert.equal(stderr.text.split('big.bin -> big.bin: 1000 B\n').length, 2, stderr.text);
  assert.match(stderr.text, /100% \|[^\n]*ETA 0s/);
});

test('without bars (stdout not a terminal, or no TTY), result lines go to stdout as is', () => {
  const stdout = new FakeTty();
  stdout.isTTY = false;
  const p = new ProgressDisplay(new FakeTty(), true);
  p.update(event(500));
  p.print('result', stdout);
  p.stop();
  assert.equal(stdout.text, 'result\n');
});

test('escapeControls: C0, DEL, C1, separators and bidi controls escaped; printable text (UTF-8 too) kept', () => {
  assert.equal(escapeControls('a\x1b[2Jb\x07c\0d\te\nf\rg\x7fh\x9bi'), 'a\\e[2Jb\\x07c\\x00d\\te\\nf\\rg\\x7fh\\x9bi');
  assert.equal(escapeControls('x\u202ey\u2028z\u2066'), 'x\\u202ey\\u2028z\\u2066');
  assert.equal(escapeControls('Grüße, 日本語 \\ "q" 😀'), 'Grüße, 日本語 \\ "q" 😀');
  const all = Array.from({ length: 0xa0 }, (_, i) => String.fromCharCode(i)).join('');
  assert.doesNotMatch(escapeControls(all), /[\x00-\x1f\x7f-\x9f]/);
});
