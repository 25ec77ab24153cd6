/**
 * Property tests of LocalStorage's confinement: random sequences of operations on random paths (built from
 * "..", ".", encoded dots, NUL, and symlinks planted inside the root that point outside) never read,
 * list, create, change or remove anything outside the root. Checked against a sentinel tree next to the
 * root, snapshotted (names, sizes, contents, modes, mtimes) before and after.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LocalStorage } from '../../src/server/storage/local.js';
import { FtpStorageError } from '../../src/errors.js';
import { snapshotTree as snapshot } from '../support/tree-snapshot.js';

const MARKER = 'SENTINEL-OUTSIDE-7f3a';

const segment = fc.constantFrom(
  '..', '.', '', '%2e%2e', '%2E%2e%2f', '..%2f', 'a', 'b', 'sub', 'new', 'x\0y', '...', '.hidden',
  'out-dir', 'out-file', 'out-abs', 'dangling', 'in-link', 'loop', 'sentinel.txt', ' ', '\\..\\',
);
const vpath = fc.array(segment, { minLength: 0, maxLength: 5 }).chain((segs) =>
  fc.constantFrom('/' + segs.join('/'), segs.join('/'), '/' + segs.join('/') + '/', '//' + segs.join('//')));

type Op =
  | { op: 'stat' | 'list' | 'read' | 'mkdir' | 'rmdir' | 'delete' | 'mtime' | 'space'; path: string }
  | { op: 'write'; path: string; mode: 'replace' | 'append' | 'exclusive' | 'rest' }
  | { op: 'rename'; path: string; to: string }
  | { op: 'chmod'; path: string; mode: number };

const operation: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constantFrom('stat', 'list', 'read', 'mkdir', 'rmdir', 'delete', 'mtime', 'space'), path: vpath }) as fc.Arbitrary<Op>,
  fc.record({ op: fc.constant('write' as const), path: vpath, mode: fc.constantFrom('replace', 'append', 'exclusive', 'rest') }) as fc.Arbitrary<Op>,
  fc.record({ op: fc.constant('rename' as const), path: vpath, to: vpath }),
  fc.record({ op: fc.constant('chmod' as const), path: vpath, mode: fc.constantFrom(0o777, 0o000, 0o4755) }),
);

test('no sequence of operations on any path escapes the root', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'ftpkit-escape-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  let run = 0;

  await fc.assert(
    fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 8 }), async (ops) => {
      // A fresh world per run (so a failure shrinks to its own cause): the root and, next to it, the
      // sentinel tree. The root's parent is watched too, so even a write one level up shows.
      const world = join(base, String(run++));
      const root = join(world, 'root');
      const outside = join(world, 'outside');
      await mkdir(join(outside, 'sub'), { recursive: true });
      await writeFile(join(outside, 'sentinel.txt'), MARKER);
      await writeFile(join(outside, 'sub', 'sentinel.txt'), MARKER);
      await mkdir(join(root, 'sub'), { recursive: true });
      await writeFile(join(root, 'a'), 'inside a');
      await symlink('../outside', join(root, 'out-dir'));
      await symlink('../outside/sentinel.txt', join(root, 'out-file'));
      await symlink(outside, join(root, 'out-abs'));
      await symlink(join(outside, 'new'), join(root, 'dangling'));
      await symlink('sub', join(root, 'in-link'));
      await symlink('loop', join(root, 'loop'));
      await symlink('..', join(root, 'sub', 'up'));
      const before = await snapshot(world, 'root');
      const storage = new LocalStorage(root);
      try {
        for (const o of ops) {
          try {
            switch (o.op) {
              case 'stat': await storage.stat(o.path); break;
              case 'list': {
                const names = (await storage.list(o.path)).map((e) => e.name);
                // The sentinel tree has "sentinel.txt" in both folders. The root has none at the start, but an
                // earlier write may have made one inside (a write to "/sentinel.txt" is legitimate): a listed
                // "sentinel.txt" must then be that file, not the sentinel (read through the storage: an
                // escaping listing would escape there too and show the marker).
                if (names.includes('sentinel.txt')) {
                  const chunks: Buffer[] = [];
                  for await (const c of await storage.openRead(posix.join(o.path.startsWith('/') ? o.path : `/${o.path}`, 'sentinel.txt'))) chunks.push(c as Buffer);
                  assert.ok(!Buffer.concat(chunks).toString().includes(MARKER), `listed outside: ${o.path}`);
                }
                break;
              }
              case 'read': {
                const chunks: Buffer[] = [];
                for await (const c of await storage.openRead(o.path)) chunks.push(c as Buffer);
                assert.ok(!Buffer.concat(chunks).toString().includes(MARKER), `read outside: ${o.path}`);
                break;
              }
              case 'write': {
                const sink = o.mode === 'append' ? await storage.openAppend(o.path)
                  : o.mode === 'rest' ? await storage.openWriteAt(o.path, 2)
                    : await storage.openWrite(o.path, o.mode === 'exclusive' ? { exclusive: true } : {});
                await pipeline(Readable.from([Buffer.from('written')]), sink);
                break;
              }
              case 'mkdir': await storage.mkdir(o.path); break;
              case 'rmdir': await storage.rmdir(o.path); break;
              case 'delete': await storage.delete(o.path); break;
              case 'rename': await storage.rename(o.path, o.to); break;
              case 'chmod': await storage.chmod(o.path, o.mode); break;
              case 'mtime': await storage.setModifiedAt(o.path, new Date(0)); break;
              case 'space': await storage.availableBytes(o.path); break;
            }
          } catch (err) {
            // Refusals are fine; anything but a typed storage error is a bug.
            if (!(err instanceof FtpStorageError)) throw err;
            assert.ok(!err.message.includes(world), `host path in message: ${err.message}`);
          }
        }
        assert.deepEqual(await snapshot(world, 'root'), before, `outside changed after ${JSON.stringify(ops)}`);
      } finally {
        await rm(world, { recursive: true, force: true });
      }
    }),
    { numRuns: 300 },
  );
});
