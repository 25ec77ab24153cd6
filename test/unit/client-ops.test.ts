/**
 * The pure parts of segmented download and verification: how ranges are cut, which check FEAT offers
 * (draft-bryan-ftpext-hash s3.3 FEAT syntax, the X commands, SIZE last), and the local digests the
 * server's are compared with (SHA-256, CRC-32 as XCRC writes it); the server option FXP needs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { splitRanges } from '../../src/client/segmented.js';
import { chooseVerifyMethod, localDigest } from '../../src/client/verify.js';
import { validateConfig } from '../../src/server/config/load.js';
import { planServe } from '../../src/server/config/to-options.js';
import { resolveOptions } from '../../src/server/resolved-options.js';
import { FtpConfigError } from '../../src/errors.js';

test('splitRanges: equal ranges covering the file exactly, the last one taking the remainder', () => {
  assert.deepEqual(splitRanges(10, 3), [{ start: 0, length: 3 }, { start: 3, length: 3 }, { start: 6, length: 4 }]);
  for (const [size, n] of [[4 * 1024 * 1024 + 1, 4], [7, 7], [1_000_003, 2]]) {
    const r = splitRanges(size, n);
    assert.equal(r.length, n);
    assert.equal(r.reduce((sum, x) => sum + x.length, 0), size);
    for (let i = 1; i < r.length; i++) assert.equal(r[i].start, r[i - 1].start + r[i - 1].length);
  }
});

test('chooseVerifyMethod: HASH with SHA-256 first (selected or not), then the X commands, then SIZE', () => {
  const f = (entries: Record<string, string>) => new Map(Object.entries(entries));
  assert.deepEqual(chooseVerifyMethod(f({ HASH: 'SHA-1*;SHA-256;MD5' })), { kind: 'hash', algorithm: 'SHA-256', digest: 'sha256', selected: false });
  assert.deepEqual(chooseVerifyMethod(f({ HASH: 'SHA-256*;SHA-512' })), { kind: 'hash', algorithm: 'SHA-256', digest: 'sha256', selected: true });
  // proftpd's line ends with ";" and names CRC32, which HASH is not used for.
  assert.deepEqual(chooseVerifyMethod(f({ HASH: 'CRC32;MD5;SHA-1*;' })), { kind: 'hash', algorithm: 'SHA-1', digest: 'sha1', selected: true });
  assert.deepEqual(chooseVerifyMethod(f({ HASH: 'CRC32', XMD5: '', XCRC: '' })), { kind: 'x-command', command: 'XMD5', digest: 'md5' });
  assert.deepEqual(chooseVerifyMethod(f({ XCRC: '', SIZE: '' })), { kind: 'x-command', command: 'XCRC', digest: 'crc32' });
  assert.deepEqual(chooseVerifyMethod(f({ SIZE: '', MDTM: '' })), { kind: 'size' });
});

test('localDigest: SHA-256 as sha256sum, CRC-32 as 8 hex digits (leading zeros kept)', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftpkit-digest-'));
  try {
    const file = path.join(dir, 'f');
    await fs.writeFile(file, 'The quick brown fox jumps over the lazy dog');
    assert.equal(await localDigest(file, 'sha256'), createHash('sha256').update('The quick brown fox jumps over the lazy dog').digest('hex'));
    assert.equal(await localDigest(file, 'crc32'), '414fa339');
    await fs.writeFile(file, Buffer.from([0x00, 0x00, 0x00, 0x2d]));
    assert.match(await localDigest(file, 'crc32'), /^[0-9a-f]{8}$/);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('server config: passive.allowForeignAddress (FXP) reaches the options, off by default', () => {
  const on = planServe(validateConfig({ passive: { allowForeignAddress: true }, active: { requireSameAddress: false } }), '/unused');
  assert.equal(on.options.passive!.allowForeignAddress, true);
  assert.equal(resolveOptions(on.options).passive.allowForeignAddress, true);
  assert.equal(resolveOptions(on.options).active.requireSameAddress, false);
  const off = planServe(validateConfig({}), '/unused');
  assert.equal(resolveOptions(off.options).passive.allowForeignAddress, false);
  assert.throws(() => validateConfig({ passive: { allowForeignAddress: 'yes' } }), FtpConfigError);
});
