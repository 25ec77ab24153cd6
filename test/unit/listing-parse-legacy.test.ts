// LIST output of servers that speak neither `ls -l` nor MS-DOS (OpenVMS, IBM i, z/OS, NetWare), IIS in its
// Unix style, and old `ls -l` variants: fixtures written from the vendors' documented formats
// (test/fixtures/listings/README.md names the sources). Unparsed lines must be reported, never dropped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseListingDetailed } from '../../src/protocol/listing-parse.js';
import type { FileEntry } from '../../src/protocol/listing-types.js';

const NOW = new Date(Date.UTC(2026, 10, 21, 12, 0));
const fixture = (name: string) =>
  readFileSync(fileURLToPath(new URL(`../fixtures/listings/${name}`, import.meta.url)), 'utf8');
const parse = (name: string) => parseListingDetailed(fixture(name), { now: NOW });
const brief = (e: FileEntry) => ({ name: e.name, type: e.type, size: e.size, at: e.modifiedAt?.toISOString() });

test('OpenVMS: versions, .DIR folders, a name on its own line, headers; a refused entry is reported', () => {
  const { entries, unparsed } = parse('vms.list.txt');
  assert.deepEqual(entries.map(brief), [
    { name: 'LOGIN.COM', type: 'file', size: undefined, at: '1995-11-14T10:20:00.000Z' },
    { name: 'DATA', type: 'dir', size: undefined, at: '2001-04-05T11:28:00.000Z' },
    { name: 'A_VERY_LONG_FILE_NAME_INDEED.TXT', type: 'file', size: undefined, at: '2003-12-12T09:01:00.000Z' },
    { name: 'NOTES.TXT', type: 'file', size: undefined, at: '2024-02-01T16:45:00.000Z' },
  ]);
  // The newest version is the one kept (VMS lists newest first); its number is said.
  assert.deepEqual(entries.map(e => e.version), [2, 1, 12, 3]);
  assert.deepEqual(unparsed, ['SECRET.DAT;1           no privilege']);
});

test('IBM i (OS/400): *DIR, *FLR, *LIB and *FILE are folders, *STMF and *MEM files, MDY and DMY dates', () => {
  const { entries, unparsed } = parse('as400.list.txt');
  assert.deepEqual(unparsed, []);
  assert.deepEqual(entries.map(brief), [
    { name: 'QOPENSYS', type: 'dir', size: undefined, at: '1996-04-09T20:41:00.000Z' },
    { name: 'QDOC', type: 'dir', size: undefined, at: '1996-08-20T16:40:00.000Z' },
    { name: 'MYLIB.FILE', type: 'dir', size: undefined, at: '1997-03-11T13:47:00.000Z' },
    { name: 'MYLIB.FILE/MYMBR.MBR', type: 'file', size: undefined, at: undefined },
    { name: 'README.TXT', type: 'file', size: 123, at: '1997-09-05T15:12:00.000Z' },
    { name: 'index file.html', type: 'file', size: 4096, at: '2023-12-31T23:59:00.000Z' },
    { name: 'QGPL.LIB', type: 'dir', size: undefined, at: '2026-11-21T08:00:00.000Z' },
  ]);
});

test('z/OS data sets: PS files, PO and PO-E folders, **NONE**, Migrated, Pseudo Directory; header skipped', () => {
  const { entries, unparsed } = parse('mvs-datasets.list.txt');
  assert.deepEqual(unparsed, []);
  assert.deepEqual(entries.map(e => [e.name, e.type, e.modifiedAt?.toISOString().slice(0, 10)]), [
    ["'JOHN.DATA'", 'file', '2003-05-21'], ['DATASET.TXT', 'file', '2024-01-15'], ['SOURCE.CNTL', 'dir', '2024-01-15'],
    ['LOADLIB', 'dir', '2023-12-01'], ['NEVER.READ', 'file', undefined], ['OLD.BACKUP', 'file', undefined],
    ['PROJECTS', 'dir', undefined],
  ]);
  // Tracks are not bytes: no size rather than a wrong one.
  assert.ok(entries.every(e => e.size === undefined));
});

test('z/OS PDS members: source members (changed date) and load modules (hexadecimal size)', () => {
  const { entries, unparsed } = parse('mvs-members.list.txt');
  assert.deepEqual(unparsed, []);
  assert.deepEqual(entries.map(brief), [
    { name: 'MEMBER1', type: 'file', size: undefined, at: '2002-09-18T14:27:00.000Z' },
    { name: '$LOG', type: 'file', size: undefined, at: '2024-01-15T09:05:00.000Z' },
    { name: 'IEFBR14', type: 'file', size: 0x60, at: undefined },
  ]);
});

test('NetWare: rights in brackets, padded names, names with spaces, time or year', () => {
  const { entries, unparsed } = parse('netware.list.txt');
  assert.deepEqual(unparsed, []);
  assert.deepEqual(entries.map(brief), [
    { name: 'login', type: 'dir', size: undefined, at: '2026-01-16T18:53:00.000Z' },
    { name: 'cx.exe', type: 'file', size: 214059, at: '2026-10-20T15:27:00.000Z' },
    { name: 'Public Files', type: 'dir', size: undefined, at: '2019-02-12T00:00:00.000Z' },
    { name: 'empty.txt', type: 'file', size: 0, at: '2026-11-21T11:59:00.000Z' },
  ]);
});

test('IIS in its Unix style: owner/group placeholders, no permissions, names with spaces', () => {
  const { entries, unparsed } = parse('iis-unix.list.txt');
  assert.deepEqual(unparsed, []);
  assert.deepEqual(entries.map(e => [e.name, e.type, e.size]), [
    ['inetpub', 'dir', 0], ['web.config', 'file', 171312], ['ls-lR.Z', 'file', 1803128], ['My Documents', 'dir', 0],
  ]);
});

test('old ls -l: numeric owners, no group, devices with major/minor, leap day, time vs year; a 550 line reported', () => {
  const { entries, unparsed } = parse('unix-old.list.txt');
  assert.deepEqual(entries.map(brief), [
    { name: 'numeric-owner.txt', type: 'file', size: 1024, at: '2026-11-21T11:37:00.000Z' },
    { name: 'welcome.msg', type: 'file', size: 312, at: '1994-08-01T00:00:00.000Z' },
    { name: 'pub', type: 'dir', size: 4096, at: '2001-12-03T00:00:00.000Z' },
    { name: 'null', type: 'other', size: undefined, at: '2001-11-21T00:00:00.000Z' },
    { name: 'sdb', type: 'other', size: undefined, at: '2026-01-05T09:12:00.000Z' },
    { name: 'leap-day.bin', type: 'file', size: 9999999, at: '2024-02-29T00:00:00.000Z' },
    { name: 'lib', type: 'link', size: 7, at: '2026-03-04T08:00:00.000Z' },
    { name: 'late-september.txt', type: 'file', size: 12, at: '2026-09-30T23:59:00.000Z' },
  ]);
  assert.deepEqual(unparsed, ['not a listing line: 550 No files found']);
});

test('nothing is lost: every non-blank line of every fixture is an entry, a frame line, or in "unparsed"', () => {
  for (const name of ['vms.list.txt', 'as400.list.txt', 'mvs-datasets.list.txt', 'mvs-members.list.txt', 'netware.list.txt',
    'iis-unix.list.txt', 'unix-old.list.txt']) {
    const text = fixture(name);
    const lines = text.split('\n').map(l => l.replace(/\r$/, '')).filter(l => l.trim());
    const { entries, unparsed } = parseListingDetailed(text, { now: NOW });
    const seen = new Set([...entries.map(e => e.raw!), ...unparsed]);
    for (const line of lines) {
      const framed = /^(Directory |Total of |total \d|Volume Unit| ?Name {2,})/.test(line);
      // A VMS name alone on its line is joined to the next; an older VMS version is understood and left out.
      const joinedOrOlder = /;\d+$/.test(line.trim()) || /^\s/.test(line) || line.startsWith('LOGIN.COM;1');
      assert.ok(framed || joinedOrOlder || seen.has(line), `${name}: ${JSON.stringify(line)} neither parsed nor reported`);
    }
  }
});

test('a VMS name alone on the last line, or followed by a line that is no entry, is reported', () => {
  assert.deepEqual(parseListingDetailed('LONG_NAME.TXT;1', { now: NOW }).unparsed, ['LONG_NAME.TXT;1']);
  const { unparsed } = parseListingDetailed('LONG_NAME.TXT;1\n   garbage here', { now: NOW });
  assert.deepEqual(unparsed, ['LONG_NAME.TXT;1 garbage here']);
});
