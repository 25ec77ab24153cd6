import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_MLST_FACTS, formatFactLine, formatListLine, formatMlstFeature, formatMlstOptsReply, formatTimeVal,
  listDate, modeString, parseMlstOpts, parseTimeVal,
} from '../../src/protocol/listing-format.js';
import type { FileInfo } from '../../src/protocol/file-info.js';

const now = new Date(Date.UTC(2024, 5, 15, 12, 0, 0));
const file: FileInfo = { name: 'report.txt', type: 'file', size: 1234, modifiedAt: new Date(Date.UTC(2024, 2, 4, 9, 5, 7)), mode: 0o644 };

test('LIST line in ls -l form', () => {
  assert.equal(formatListLine(file, now), '-rw-r--r--    1 ftp      ftp              1234 Mar 04 09:05 report.txt');
});

test('LIST: directories, owner/group, links, symlinks', () => {
  const dir: FileInfo = { name: 'sub dir', type: 'dir', size: 4096, modifiedAt: file.modifiedAt, mode: 0o755, owner: 'alice', group: 'staff', links: 3 };
  assert.equal(formatListLine(dir, now), 'drwxr-xr-x    3 alice    staff            4096 Mar 04 09:05 sub dir');
  const link: FileInfo = { name: 'l', type: 'link', size: 3, modifiedAt: file.modifiedAt, mode: 0o777, linkTarget: 'abc' };
  assert.match(formatListLine(link, now), /^lrwxrwxrwx .* l -> abc$/);
});

test('LIST: year instead of time for old and future entries', () => {
  assert.equal(listDate(new Date(Date.UTC(2023, 0, 9, 1, 2)), now), 'Jan 09  2023');
  assert.equal(listDate(new Date(Date.UTC(2025, 0, 9, 1, 2)), now), 'Jan 09  2025');
  assert.equal(listDate(new Date(Date.UTC(2024, 5, 14, 23, 59)), now), 'Jun 14 23:59');
});

test('LIST: dates and columns reused between lines are never stale (the formatter keeps the last ones)', () => {
  const at = (m: number, s = 0) => new Date(Date.UTC(2024, 5, 15, 11, m, s));
  // Alternating minutes, the same minute with other seconds, the same UTC day across the six-month line.
  assert.deepEqual([at(1), at(2), at(1, 30), at(1, 59)].map(d => listDate(d, now)), ['Jun 15 11:01', 'Jun 15 11:02', 'Jun 15 11:01', 'Jun 15 11:01']);
  const day = Date.UTC(2023, 6, 1);
  assert.equal(listDate(new Date(day + 3600_000), now), 'Jul 01  2023');
  assert.equal(listDate(new Date(day + 3600_000), new Date(day + 86_400_000)), 'Jul 01 01:00');
  assert.equal(listDate(new Date(day + 7200_000), now), 'Jul 01  2023');
  const lines = [0o644, 0o4755, 0o644].map((mode, i) => formatListLine({ ...file, mode, owner: i === 1 ? 'a b' : 'alice' }, now));
  assert.deepEqual(lines.map(l => l.slice(0, 33)), [
    '-rw-r--r--    1 alice    ftp     ', '-rwsr-xr-x    1 a_b      ftp     ', '-rw-r--r--    1 alice    ftp     ']);
});

test('MLSx: time-vals reused by the second are never stale', () => {
  const at = (s: number, ms = 0) => new Date(Date.UTC(2024, 1, 29, 23, 59, s, ms));
  assert.deepEqual([at(1), at(2, 5), at(1, 250), at(1), at(59, 999)].map(formatTimeVal),
    ['20240229235901', '20240229235902.005', '20240229235901.250', '20240229235901', '20240229235959.999']);
});

test('LIST: a name with a line end cannot forge another line', () => {
  const evil: FileInfo = { ...file, name: 'a\r\n-rw-r--r-- 1 x x 1 Jan 01 00:00 fake' };
  assert.ok(!formatListLine(evil, now).includes('\n'));
});

test('mode strings with setuid, setgid and sticky bits', () => {
  assert.equal(modeString('file', 0o4755), '-rwsr-xr-x');
  assert.equal(modeString('dir', 0o1777), 'drwxrwxrwt');
  assert.equal(modeString('file', 0o2644), '-rw-r-Sr--');
});

test('time-val (RFC 3659 s2.3): format and parse, milliseconds only when present', () => {
  assert.equal(formatTimeVal(new Date(Date.UTC(2024, 0, 2, 3, 4, 5))), '20240102030405');
  assert.equal(formatTimeVal(new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 60))), '20240102030405.060');
  assert.equal(parseTimeVal('20240102030405')?.getTime(), Date.UTC(2024, 0, 2, 3, 4, 5));
  assert.equal(parseTimeVal('20240102030405.5')?.getTime(), Date.UTC(2024, 0, 2, 3, 4, 5, 500));
  assert.equal(parseTimeVal('20241302030405'), undefined);
  assert.equal(parseTimeVal('2024010203040'), undefined);
  assert.equal(parseTimeVal('20240230000000'), undefined);
});

test('MLSx fact line (RFC 3659 s7)', () => {
  const line = formatFactLine({ ...file, unique: 'u1' }, { facts: DEFAULT_MLST_FACTS, perm: 'adfrw', name: 'report.txt' });
  assert.equal(line, 'type=file;size=1234;modify=20240304090507;perm=adfrw;unique=u1;UNIX.mode=0644; report.txt');
});

test('MLSx: cdir, directories have no size, selected facts only', () => {
  const dir: FileInfo = { name: 'd', type: 'dir', size: 4096, modifiedAt: file.modifiedAt, mode: 0o755 };
  assert.equal(formatFactLine(dir, { facts: DEFAULT_MLST_FACTS, typeOverride: 'cdir', name: '.' }),
    'type=cdir;modify=20240304090507;UNIX.mode=0755; .');
  const facts = parseMlstOpts('Type;SIZE;bogus;');
  assert.deepEqual([...facts], ['type', 'size']);
  assert.equal(formatFactLine(file, { facts, name: 'x' }), 'type=file;size=1234; x');
});

test('FEAT MLST line and OPTS MLST reply', () => {
  assert.equal(formatMlstFeature(DEFAULT_MLST_FACTS), 'MLST type*;size*;modify*;perm*;unique*;UNIX.mode*;');
  const sel = parseMlstOpts('size;modify;');
  assert.equal(formatMlstFeature(sel), 'MLST type;size*;modify*;perm;unique;UNIX.mode;');
  assert.equal(formatMlstOptsReply(sel), 'MLST OPTS size;modify;');
  assert.equal(formatMlstOptsReply(parseMlstOpts('')), 'MLST OPTS ');
});
