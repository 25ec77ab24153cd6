// Listing parsers against real LIST/MLSD bodies (test/fixtures/listings, see its README for origins).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import {
  parseListing, parseListingDetailed, parseUnixLine, parseDosLine, parseEplfLine, parseModeString,
  parseMlsxLine, parseMlsd, parseMlsxTime,
} from '../../src/protocol/listing-parse.js';
import type { FileEntry } from '../../src/protocol/listing-types.js';

const fixture = (name: string) =>
  readFileSync(fileURLToPath(new URL(`../fixtures/listings/${name}`, import.meta.url)), 'utf8');
const NOW = new Date(Date.UTC(2026, 10, 21, 12, 0));
const utc = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0) => new Date(Date.UTC(y, mo - 1, d, h, mi, s));
const brief = (e: FileEntry) => ({ name: e.name, type: e.type, size: e.size, linkTarget: e.linkTarget });

// The same tree served by three real Unix-style servers must parse to the same entries.
const TREE = [
  { name: ' leading space', type: 'file', size: 0, linkTarget: undefined },
  { name: 'big.bin', type: 'file', size: 123456, linkTarget: undefined },
  { name: 'emptydir', type: 'dir', size: 4096, linkTarget: undefined },
  { name: 'file with spaces.txt', type: 'file', size: 3, linkTarget: undefined },
  { name: 'link-to-big', type: 'link', size: 7, linkTarget: 'big.bin' },
  { name: 'old.txt', type: 'file', size: 0, linkTarget: undefined },
  { name: 'sub dir', type: 'dir', size: 4096, linkTarget: undefined },
];

for (const file of ['vsftpd-3.0.3.list.txt', 'pure-ftpd-1.0.50.list-a.txt', 'pyftpdlib-1.5.7.list.txt']) {
  test(`LIST from ${file}`, () => {
    const { entries, unparsed } = parseListingDetailed(fixture(file), { now: NOW });
    assert.deepEqual(unparsed, []);
    assert.deepEqual(entries.map(brief), TREE); // "." and ".." of LIST -a are skipped
    const old = entries.find(e => e.name === 'old.txt')!;
    assert.deepEqual(old.modifiedAt, utc(2019, 3, 4));
    assert.deepEqual(entries.find(e => e.name === 'big.bin')!.modifiedAt, utc(2026, 11, 21, 11, 37));
    assert.equal(entries.find(e => e.name === 'emptydir')!.mode, 0o755);
    assert.equal(entries[0].mode, 0o644);
    assert.match(entries[0].raw!, /leading space$/);
  });
}

test('MLSD from pure-ftpd: sizd, OS.unix=slink, cdir/pdir skipped, UNIX.mode', () => {
  const entries = parseMlsd(fixture('pure-ftpd-1.0.50.mlsd.txt'));
  assert.deepEqual(entries.map(e => e.name).sort(),
    [' leading space', 'big.bin', 'emptydir', 'file with spaces.txt', 'link-to-big', 'old.txt', 'sub dir']);
  const link = entries.find(e => e.name === 'link-to-big')!;
  assert.equal(link.type, 'link');
  assert.equal(link.linkTarget, 'big.bin');
  const dir = entries.find(e => e.name === 'sub dir')!;
  assert.equal(dir.type, 'dir');
  assert.equal(dir.size, undefined); // sizd is the folder's own size, not content
  assert.equal(dir.mode, 0o755);
  assert.deepEqual(entries.find(e => e.name === 'old.txt')!.modifiedAt, utc(2019, 3, 4, 5, 6));
  assert.equal(entries.find(e => e.name === 'big.bin')!.unique, 'fe00g160023');
});

test('proftpd 1.3.8 captures: LIST like the others; MLSD with OS.unix=symlink and owner facts', () => {
  const later = new Date(Date.UTC(2026, 10, 21, 13, 0));
  const { entries, unparsed } = parseListingDetailed(fixture('proftpd-1.3.8.list.txt'), { now: later });
  assert.deepEqual(unparsed, []);
  assert.deepEqual(entries.map(brief), TREE);
  assert.deepEqual(entries.find(e => e.name === 'big.bin')!.modifiedAt, utc(2026, 11, 21, 12, 24));
  const mlsd = parseMlsd(fixture('proftpd-1.3.8.mlsd.txt'));
  assert.equal(mlsd.length, 7); // cdir and pdir skipped
  const link = mlsd.find(e => e.name === 'link-to-big')!;
  assert.equal(link.type, 'link');
  assert.equal(link.linkTarget, undefined);
  const lead = mlsd.find(e => e.name === ' leading space')!;
  assert.equal(lead.perm, 'adfrw');
  assert.equal(lead.facts['unix.ownername'], 'ftpkit');
  assert.deepEqual(lead.modifiedAt, utc(2026, 11, 21, 12, 24, 37));
  assert.equal(mlsd.find(e => e.name === 'emptydir')!.size, undefined);
});

test('chrooted pure-ftpd: OS.unix=slink: with an empty target is a link without a target', () => {
  const entries = parseMlsd(fixture('pure-ftpd-1.0.50-chroot.mlsd.txt'));
  const link = entries.find(e => e.name === 'link-to-big')!;
  assert.equal(link.type, 'link');
  assert.equal(link.linkTarget, undefined);
  assert.equal(entries.length, 7);
});

test('MLSD from pyftpdlib: perm facts, names with leading space', () => {
  const entries = parseMlsd(fixture('pyftpdlib-1.5.7.mlsd.txt'));
  assert.equal(entries.length, 7);
  const lead = entries.find(e => e.name === ' leading space')!;
  assert.equal(lead.type, 'file');
  assert.equal(lead.perm, 'r');
  assert.equal(entries.find(e => e.name === 'emptydir')!.perm, 'el');
  assert.equal(entries.find(e => e.name === 'big.bin')!.size, 123456);
});

test('MLSx: case-insensitive facts, fractional seconds, names with ; and spaces, MLST leading space', () => {
  const e = parseMlsxLine('Type=FILE;Size=42;Modify=20240115103000.123;Perm=adfrw;UNIX.MODE=0640; a;b c.txt')!;
  assert.equal(e.name, 'a;b c.txt');
  assert.equal(e.type, 'file');
  assert.equal(e.size, 42);
  assert.equal(e.mode, 0o640);
  assert.equal(e.perm, 'adfrw');
  assert.deepEqual(e.modifiedAt, new Date(Date.UTC(2024, 0, 15, 10, 30, 0, 123)));
  // MLST reply line: one extra leading space (RFC 3659 s7.2)
  const m = parseMlsxLine(' type=dir;modify=20240115103000; /home/user')!;
  assert.equal(m.name, '/home/user');
  assert.equal(m.type, 'dir');
  // no facts at all: the line is " name"
  assert.equal(parseMlsxLine(' lonely')!.name, 'lonely');
  assert.equal(parseMlsxLine('type=cdir; .')!.mlsxType, 'cdir');
  assert.equal(parseMlsxLine('garbage'), undefined);
  assert.equal(parseMlsxLine('-rw-r--r-- 1 a b 1 Jan 1 2020 x'), undefined);
  assert.equal(parseMlsxTime('20241301000000'), undefined);
  assert.equal(parseMlsxTime('2024'), undefined);
  assert.equal(parseMlsxLine('type=file;size=-5; x')!.size, undefined);
});

test('proftpd LIST: setuid/sticky bits, year dates, hidden files, link', () => {
  const entries = parseListing(fixture('unix-proftpd-style.list.txt'), { now: NOW });
  assert.deepEqual(entries.map(brief), [
    { name: 'public_html', type: 'dir', size: 4096, linkTarget: undefined },
    { name: 'backup 2023.tar.gz', type: 'file', size: 524288, linkTarget: undefined },
    { name: '.bash_logout', type: 'file', size: 220, linkTarget: undefined },
    { name: 'www', type: 'link', size: 11, linkTarget: 'public_html' },
    { name: 'setuid-sticky', type: 'file', size: 1234, linkTarget: undefined },
  ]);
  assert.equal(entries[4].mode, 0o5755);
  assert.equal(entries[2].mode, 0o600);
  assert.deepEqual(entries[1].modifiedAt, utc(2023, 12, 31));
  assert.deepEqual(entries[0].modifiedAt, utc(2026, 1, 15, 10, 30));
});

test('FileZilla Server LIST: a date later than now belongs to last year', () => {
  const entries = parseListing(fixture('filezilla-server-0.9.list.txt'), { now: NOW });
  assert.deepEqual(entries.map(e => [e.name, e.type, e.size]), [
    ['Documents', 'dir', 0], ['report final.pdf', 'file', 104857], ['empty.txt', 'file', 0]]);
  assert.deepEqual(entries[2].modifiedAt, utc(2026, 11, 20, 23, 59));
  const dec = parseUnixLine('-rw-r--r-- 1 ftp ftp 1 Dec 24 10:00 x', NOW)!;
  assert.deepEqual(dec.modifiedAt, utc(2025, 12, 24, 10, 0));
});

test('IIS/DOS LIST: 12h and 24h, 2- and 4-digit years, <DIR>, thousands separators', () => {
  const entries = parseListing(fixture('iis-dos.list.txt'), { now: NOW });
  assert.deepEqual(entries.map(e => [e.name, e.type, e.size, e.modifiedAt?.toISOString()]), [
    ['epsgroup', 'dir', undefined, '2002-01-16T11:14:00.000Z'],
    ['readme.txt', 'file', 1973, '2003-06-05T15:19:00.000Z'],
    ['midnight.log', 'file', 0, '2024-12-01T00:00:00.000Z'],
    ['noon report.doc', 'file', 512, '2024-12-01T12:30:00.000Z'],
    ['big file.zip', 'file', 1048576, '1999-07-04T21:00:00.000Z'],
    ['Program Files', 'dir', undefined, '2024-01-15T22:30:00.000Z'],
  ]);
  assert.equal(parseDosLine('01-16-02  13:14PM  <DIR>  x'), undefined);
  assert.equal(parseDosLine('01-16-69  01:00AM  1  x')!.modifiedAt!.getUTCFullYear(), 2069);
  assert.equal(parseDosLine('01-16-70  01:00AM  1  x')!.modifiedAt!.getUTCFullYear(), 1970);
});

test('EPLF', () => {
  const entries = parseListing(fixture('eplf.list.txt'));
  assert.deepEqual(entries.map(e => [e.name, e.type, e.size, e.modifiedAt?.getTime(), e.unique, e.mode]), [
    ['dev', 'dir', undefined, 824255902000, '8388621.29609', undefined],
    ['RFCEPLF', 'file', 10376, 839956783000, '8388621.44468', undefined],
    ['djb.html', 'file', 280, 825718503000, '8388621.48594', undefined],
    ['with space.txt', 'file', 280, 825718503000, undefined, 0o644],
  ]);
  assert.equal(parseEplfLine('+i1,r no tab'), undefined);
  assert.equal(parseEplfLine('+m99999999999999999999,r,\tx')!.modifiedAt, undefined); // out of Date's range
});

test('Unix LIST variants: devices, missing group, ISO and day-first dates, locale months, ACL marker', () => {
  const { entries, unparsed } = parseListingDetailed(fixture('unix-misc.list.txt'), { now: NOW });
  assert.deepEqual(unparsed, ['this line is a banner, not an entry']);
  const byName = new Map(entries.map(e => [e.name, e]));
  assert.equal(byName.get('null')!.type, 'other');
  assert.equal(byName.get('null')!.size, undefined);
  assert.equal(byName.get('sda')!.type, 'other');
  assert.equal(byName.get('no-group.txt')!.size, 12345);
  assert.deepEqual(byName.get('iso-date.txt')!.modifiedAt, utc(2024, 1, 15, 10, 30));
  assert.equal(byName.get('iso-date.txt')!.size, 2048);
  assert.deepEqual(byName.get('day-first.txt')!.modifiedAt, utc(2026, 1, 15, 10, 30));
  assert.equal(byName.get('day-first.txt')!.size, 77);
  assert.deepEqual(byName.get('german-march.txt')!.modifiedAt, utc(2020, 3, 3));
  assert.deepEqual(byName.get('french-dec.txt')!.modifiedAt, utc(2021, 12, 24));
  assert.equal(byName.get('acl-plus.txt')!.size, 100);
  // only symlinks have targets: a folder named with " -> " keeps its whole name
  assert.equal(byName.get('name -> with arrow but a dir')!.type, 'dir');
  assert.equal(byName.get('fifo')!.type, 'other');
  assert.equal(entries.length, 10);
});

test('mode strings', () => {
  assert.equal(parseModeString('rwxr-x---'), 0o750);
  assert.equal(parseModeString('rwSr-sr-T'), 0o7644 & ~0o100 | 0o010);
  assert.equal(parseModeString('rwxrwxrwz'), undefined);
});

test('a lone line parses whatever the array/CRLF/LF shape', () => {
  const line = '-rw-r--r-- 1 a b 5 Jan  2  2020 x';
  assert.equal(parseListing([line])[0].name, 'x');
  assert.equal(parseListing(`${line}\r\n`)[0].name, 'x');
  assert.equal(parseListing(`total 0\n${line}\n\n`).length, 1);
});

test('property: a Unix line built from any name parses back to that name and size', () => {
  const nameArb = fc.string({ minLength: 1, maxLength: 40 })
    .filter(s => !/[\r\n]/.test(s) && s !== '.' && s !== '..' && s.trim() !== '' && !s.includes(' -> '));
  fc.assert(fc.property(nameArb, fc.nat({ max: 2 ** 40 }), fc.boolean(), (name, size, withYear) => {
    const date = withYear ? 'Mar  4  2019' : 'Nov 21 11:37';
    const [e] = parseListing(`-rw-r--r--    1 ftp      ftp      ${String(size).padStart(8)} ${date} ${name}\r\n`, { now: NOW });
    assert.equal(e.name, name);
    assert.equal(e.size, size);
  }));
});

test('property: MLSD line with any name (incl. ; and spaces) round-trips', () => {
  const nameArb = fc.string({ minLength: 1, maxLength: 40 }).filter(s => !/[\r\n]/.test(s));
  fc.assert(fc.property(nameArb, fc.nat(), (name, size) => {
    const e = parseMlsxLine(`type=file;size=${size};modify=20200101000000; ${name}`)!;
    assert.equal(e.name, name);
    assert.equal(e.size, size);
  }));
});

test('property: arbitrary server output never throws, and every entry has a non-empty name', () => {
  const line = fc.oneof(
    fc.string({ maxLength: 120 }),
    fc.tuple(fc.constantFrom('-rw-r--r--', 'drwxr-xr-x', 'lrwxrwxrwx', 'crw-rw-rw-', '+i1,r,', '01-15-24', 'type=file;'),
      fc.string({ maxLength: 80 })).map(([a, b]) => `${a} ${b}`),
  );
  fc.assert(fc.property(fc.array(line, { maxLength: 20 }), lines => {
    const { entries } = parseListingDetailed(lines.join('\r\n'), { now: NOW });
    for (const e of entries) {
      assert.ok(e.name.length > 0);
      assert.ok(e.modifiedAt === undefined || !Number.isNaN(e.modifiedAt.getTime()));
    }
    for (const l of lines) parseMlsxLine(l);
  }), { numRuns: 500 });
});

test('ls -l link count: read when links, owner, group and size are all there, never guessed', () => {
  const inetutils = parseUnixLine('drwx--x--x  3 root  root  4096 Dec  5 11:54 locked dir');
  assert.equal(inetutils?.links, 3);
  assert.equal(inetutils?.name, 'locked dir');
  assert.equal(parseUnixLine('drwxr-xr-x    2 0        0            4096 Jan 15 10:30 plain')?.links, 2);
  // No link count column: "1000 1000" are owner and group, not links.
  assert.equal(parseUnixLine('drwxr-xr-x 1000 1000 4096 Jan 15 10:30 x')?.links, undefined);
  assert.equal(parseUnixLine('drwxr-xr-x 1 ftp 4096 Jan 15 10:30 x')?.links, undefined);
});
