/**
 * Migrated password hashes: SHA-512-crypt / SHA-256-crypt against the specification's vectors and against
 * hashes made by other implementations (openssl passwd, glibc through python3's crypt, mkpasswd), fixed
 * here and made afresh when the tool is present; bcrypt ($2a$/$2b$/$2y$); unknown formats refused at
 * configuration time naming the user; the credential cache over every format.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { parseShaCrypt, shaCrypt, verifyShaCrypt, type ShaCryptHash } from '../../src/server/auth/sha-crypt.js';
import { costKey, dummyLike, parseStoredHash, verifyStoredHash, type StoredPasswordHash } from '../../src/server/auth/stored-hash.js';
import { ConfigUserStore } from '../../src/server/auth/user-store.js';
import { validateConfig } from '../../src/server/config/load.js';
import { MemoryStorage } from '../../src/server/storage/memory.js';
import { FtpConfigError } from '../../src/errors.js';

const ctx = { remoteAddress: '127.0.0.1', secure: false };

/** Drepper, "Unix crypt using SHA-256 and SHA-512": the salt argument, the key, the expected result. */
const SPEC_VECTORS: [string, string, string][] = [
  ['$5$saltstring', 'Hello world!', '$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5'],
  ['$5$rounds=10000$saltstringsaltstring', 'Hello world!', '$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA'],
  ['$5$rounds=5000$toolongsaltstring', 'This is just a test', '$5$rounds=5000$toolongsaltstrin$Un/5jzAHMgOGZ5.mWJpuVolil07guHPvOW8mGRcvxa5'],
  ['$5$rounds=1400$anotherlongsaltstring', 'a very much longer text to encrypt.  This one even stretches over morethan one line.', '$5$rounds=1400$anotherlongsalts$Rx.j8H.h8HjEDGomFU8bDkXm3XIUnzyxf12oP84Bnq1'],
  ['$5$rounds=77777$short', 'we have a short salt string but not a short password', '$5$rounds=77777$short$JiO1O3ZpDAxGJeaDIuqCoEFysAe1mZNJRs3pw0KQRd/'],
  ['$5$rounds=123456$asaltof16chars..', 'a short string', '$5$rounds=123456$asaltof16chars..$gP3VQ/6X7UUEW3HkBn2w1/Ptq2jxPyzV/cZKmF/wJvD'],
  ['$5$rounds=10$roundstoolow', 'the minimum number is still observed', '$5$rounds=1000$roundstoolow$yfvwcWrQ8l/K0DAWyuPMDNHpIVlTQebY9l/gL972bIC'],
  ['$6$saltstring', 'Hello world!', '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1'],
  ['$6$rounds=10000$saltstringsaltstring', 'Hello world!', '$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.'],
  ['$6$rounds=5000$toolongsaltstring', 'This is just a test', '$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0'],
  ['$6$rounds=1400$anotherlongsaltstring', 'a very much longer text to encrypt.  This one even stretches over morethan one line.', '$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1'],
  ['$6$rounds=77777$short', 'we have a short salt string but not a short password', '$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5CxtgfiAc0'],
  ['$6$rounds=123456$asaltof16chars..', 'a short string', '$6$rounds=123456$asaltof16chars..$BtCwjqMJGx5hrJhZywWvt0RLE8uZ4oPwcelCjmw2kSYu.Ec6ycULevoBK25fs2xXgMNrCzIMVcgEJAstJeonj1'],
  ['$6$rounds=10$roundstoolow', 'the minimum number is still observed', '$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX.'],
];

const UNICODE = 'pässwörd-ünïcode';
const A32 = 'a'.repeat(32);
const B64 = 'b'.repeat(64);

/**
 * Made on this machine with `openssl passwd -5/-6 -salt opensslsalt`, `mkpasswd -m sha-256 -S
 * mkpasswdSalt16 -R 12000`, `mkpasswd -m sha-512 -S mkpasswdSalt` and python3's
 * `crypt.crypt(pw, "$6$rounds=7777$pySalt")` (glibc). Lengths 32 and 64 are the digest sizes, where a
 * wrong implementation of steps 10 and 16 differs.
 */
const OTHER_TOOLS: [string, string][] = [
  [UNICODE, '$5$opensslsalt$aUFimHaODwvJyrwFMRQHNb59O.lmeEjCZ59qYjTqgK1'],
  [UNICODE, '$6$opensslsalt$XMVmhL90lGD/6ikroLo7E7O.lqMcoyIJ0uqFw/Ju.o2pyBNKSnrULnftYa2mbF86AoHsVZCzYyCRU8RdKQ5oS/'],
  [UNICODE, '$5$rounds=12000$mkpasswdSalt16$pR3Yi6LYbE39IJh4HY43BlcRs.NR49y53lsMyUYYHo6'],
  [UNICODE, '$6$mkpasswdSalt$5odmQGSz3TQUX44VdLPRnkj2N2EYj6kxTEgNClj5Nvx1t5PG9E4Ng60HYCklGFWGJbtEuMfYTsO858J0iNl1b.'],
  [UNICODE, '$6$rounds=7777$pySalt$7IOAvyNk0OVvE9ZmGQWqju.4sWZMILol/9D/lmQnA7vgkDSkWIMj.VafrmaucJvqGC152lWXnnipFrnQ5jUo1.'],
  [A32, '$5$opensslsalt$d6y7pm8v/4m6il.5PUq9BqixIve4eh2QXAuMpZZgxa9'],
  [A32, '$6$opensslsalt$5KpUiDcOawuOqTeAHezE4QKKKcXeALOEOafc/9J.XtC58rgWry2.sT7nzcnVtgyVemlZyRgilhNyfp3.S/k7/.'],
  [A32, '$5$rounds=12000$mkpasswdSalt16$3QWo5wTS7DkROf9l7EiHf.9hGcFFI/bbA0iQn0s3E85'],
  [A32, '$6$mkpasswdSalt$0mcYJz92TRyyRPM06ikw3sdMy0ROPet4mhzKlbXm8QAYV9cVbl/YdOjrSqu8EEpFnsGrqAAOebwiXgAkaZRYU0'],
  [A32, '$6$rounds=7777$pySalt$9whtWXTsjlKvtpV2VLKqXvDOI4zav.fBRquU8IkLojZOmbqzSHNcXN.jlLWvwfd7H50rq/eyCSGEKBrC0dVRc.'],
  [B64, '$5$opensslsalt$R.IyRGNYsScX3gSscS5fK1H2WOIaKXDqDZQTDdNLfhB'],
  [B64, '$6$opensslsalt$mT3XoFfixqjMFq67fuNj5ttWULkP5TglxXmIuNLFKJYimNbPKW5IRpTUTm8mjmYzp2BL/G7iFr2idXIxsTbYO1'],
  [B64, '$5$rounds=12000$mkpasswdSalt16$9XsQsz5M.M525SaudaCz9hJuz.CvZZx/BppbCnJLV84'],
  [B64, '$6$mkpasswdSalt$i4KphEubU759As1gRNbSibT7O.VBjp8lP.S57k0hK/mVNAoUMwwfsuGu0NI5nllZn48w8sxUik6KbAMpc8HY9.'],
  [B64, '$6$rounds=7777$pySalt$QAonVX2eyNNgZveA/hzU1QHcFLfyQLR1Z57PfWMsdhjEd/KrkQId9/5YFls6oANKJ3poTyKCKcVLaw7Vb9MAa0'],
  ['secret', '$5$opensslsalt$28YgC4.tAowV13jNxqzLnOO0f1mtdYEDqrNBYLuRao/'],
  ['secret', '$6$opensslsalt$RYp6MntZMSU.gp5umToWAut5JOaOhj4BuCIG4bPvwUyU6JcyI1ElKFBvv6sliaewhCILuowLcf.a/6q65AIZ91'],
];

/** `mkpasswd -m bcrypt -R 5` ($2b$) and `-m bcrypt-a -R 5` ($2a$); $2y$ (PHP) is the same algorithm as $2b$. */
const BCRYPT: [string, string][] = [
  ['secret', '$2b$05$H5Kez7O4qKKDguqVdt50Jui4KRxfhg05KDZhJtHgY0LUWO7kYHbUC'],
  ['secret', '$2a$05$yo2vmsAE8c..Vm7P19x1ieOsQL7DsZx41MaXmerw/j9Fb9MdYlvWe'],
  ['secret', '$2y$05$H5Kez7O4qKKDguqVdt50Jui4KRxfhg05KDZhJtHgY0LUWO7kYHbUC'],
  [UNICODE, '$2b$05$5yykxQSNfKr1BlchjettX./8pdgY/0O6MXYZmdiEszqeTUB0iJVWa'],
  [UNICODE, '$2a$05$VIC1NxJL9EJeAWuxfywmU.Fg8cQ.8pS0.yNDYPIDkp0DxWfpM9F.G'],
];

function parsed(encoded: string): ShaCryptHash {
  const p = parseShaCrypt(encoded);
  assert.equal(typeof p, 'object', `${encoded}: ${String(p)}`);
  return p as ShaCryptHash;
}

function stored(encoded: string): StoredPasswordHash {
  const p = parseStoredHash(encoded);
  assert.equal(typeof p, 'object', `${encoded}: ${String(p)}`);
  return p as StoredPasswordHash;
}

/** The output of a tool, or undefined when it is not installed. */
function tool(command: string, args: string[]): string | undefined {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

test('SHA-crypt: the specification\'s vectors', async () => {
  for (const [salt, key, expected] of SPEC_VECTORS) {
    const [, id, ...rest] = salt.split('$');
    const roundsGiven = rest[0]!.startsWith('rounds=');
    const fromSalt = {
      algorithm: id === '5' ? 'sha256' as const : 'sha512' as const,
      rounds: roundsGiven ? Math.max(1000, Number(rest[0]!.slice(7))) : 5000,
      roundsGiven,
      salt: (roundsGiven ? rest[1]! : rest[0]!).slice(0, 16),
    };
    assert.equal(await shaCrypt(key, fromSalt), expected, salt);
    assert.equal(await verifyShaCrypt(key, parsed(expected)), true, expected);
    assert.equal(await verifyShaCrypt(`${key}.`, parsed(expected)), false);
  }
  // A stored "rounds=10" counts as 1000, as the specification says.
  const low = parsed('$5$rounds=10$roundstoolow$yfvwcWrQ8l/K0DAWyuPMDNHpIVlTQebY9l/gL972bIC');
  assert.equal(low.rounds, 1000);
  assert.equal(await verifyShaCrypt('the minimum number is still observed', low), true);
});

test('SHA-crypt: hashes made by openssl, mkpasswd and glibc verify; a changed password does not', async () => {
  for (const [password, encoded] of OTHER_TOOLS) {
    assert.equal(await verifyStoredHash(password, stored(encoded)), true, `${password} ${encoded}`);
    assert.equal(await verifyStoredHash(password.slice(0, -1), stored(encoded)), false, encoded);
    assert.equal(await verifyStoredHash(password.normalize('NFD'), stored(encoded)), password === password.normalize('NFD'), 'the bytes as given, not normalised');
  }
});

/** Random passwords of every length around the digest sizes, some of them not ASCII. */
function randomPasswords(): string[] {
  const lengths = [0, 1, 15, 16, 31, 32, 33, 63, 64, 65, 127, 128, 129];
  return lengths.filter((n) => n > 0).map((n, i) => {
    const ascii = randomBytes(n).toString('base64').slice(0, n);
    return i % 3 === 0 ? `${ascii.slice(0, Math.max(0, n - 2))}é` : ascii;
  });
}

test('SHA-crypt: fresh hashes from openssl passwd -5 / -6', async (t) => {
  if (tool('openssl', ['version']) === undefined) return t.skip('openssl is not installed');
  for (const password of randomPasswords()) {
    for (const alg of ['-5', '-6']) {
      const salt = randomBytes(12).toString('base64').replace(/\+/g, '.').slice(0, randomInt(1, 17));
      const encoded = tool('openssl', ['passwd', alg, '-salt', salt, password])!;
      assert.equal(await verifyStoredHash(password, stored(encoded)), true, `${alg} ${JSON.stringify(password)} ${encoded}`);
      assert.equal(await verifyStoredHash(`${password}x`, stored(encoded)), false);
    }
  }
});

test('SHA-crypt and bcrypt: fresh hashes from mkpasswd (Debian whois)', async (t) => {
  if (tool('mkpasswd', ['--version']) === undefined) return t.skip('mkpasswd is not installed (apt-get install whois)');
  for (const password of randomPasswords().slice(0, 6)) {
    for (const args of [['-m', 'sha-512'], ['-m', 'sha-256', '-R', String(randomInt(1000, 20000))], ['-m', 'bcrypt', '-R', '5']]) {
      const encoded = tool('mkpasswd', [...args, password])!;
      assert.equal(await verifyStoredHash(password, stored(encoded)), true, `${args.join(' ')} ${JSON.stringify(password)} ${encoded}`);
      assert.equal(await verifyStoredHash(`${password}x`, stored(encoded)), false);
    }
  }
});

test('SHA-crypt: fresh hashes from glibc (python3 crypt)', async (t) => {
  const script = 'import sys, warnings\nwarnings.simplefilter("ignore")\nimport crypt\nprint(crypt.crypt(sys.argv[1], sys.argv[2]))';
  let works: string | undefined;
  try { works = tool('python3', ['-c', script, 'x', '$6$probe']); } catch { works = undefined; }
  if (!works?.startsWith('$6$')) return t.skip('python3 with the crypt module is not available');
  for (const password of randomPasswords()) {
    for (const salt of ['$6$glibcSalt', '$5$rounds=3000$glibc']) {
      const encoded = tool('python3', ['-c', script, password, salt])!;
      assert.equal(await verifyStoredHash(password, stored(encoded)), true, `${salt} ${JSON.stringify(password)} ${encoded}`);
    }
  }
});

test('bcrypt: $2a$, $2b$ and $2y$ hashes verify', async () => {
  for (const [password, encoded] of BCRYPT) {
    assert.equal(await verifyStoredHash(password, stored(encoded)), true, encoded);
    assert.equal(await verifyStoredHash(`${password}!`, stored(encoded)), false, encoded);
  }
});

test('unknown or unusable formats are refused with a reason', () => {
  for (const [encoded, reason] of [
    ['plain', /not a password hash ftpkit knows.*\$6\$.*bcrypt/],
    ['$1$salt$qJH7.N4xYta3aEG/dfqo/0', /MD5-crypt/],
    ['$y$j9T$salt$hash', /yescrypt/],
    ['$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA', /argon2/],
    ['abJnggxhB/yWI', /DES/],
    ['$6$rounds=5000000$salt$' + 'x'.repeat(86), /rounds=5000000.*at most 1000000/],
    ['$6$salt$tooshort', /86 characters/],
    ['$6$saltsaltsaltsaltsalt$' + 'x'.repeat(86), /salt of at most 16/],
    ['$2b$31$' + 'x'.repeat(53), /cost 31/],
    ['$2b$05$short', /bcrypt hash of the form/],
    ['$scrypt$ln=30,r=8,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA', /ln must be/],
  ] as const) {
    const result = parseStoredHash(encoded);
    assert.equal(typeof result, 'string', encoded);
    assert.match(result as string, reason, encoded);
  }
});

test('a bad hash is a configuration error at start that names the user', () => {
  const storage = new MemoryStorage();
  assert.throws(
    () => new ConfigUserStore([{ name: 'alice', passwordHash: BCRYPT[0]![1], storage }, { name: 'bob', passwordHash: '$1$salt$qJH7.N4xYta3aEG/dfqo/0', storage }]),
    (e: unknown) => e instanceof FtpConfigError && e.key === 'users.1.password' && /user "bob": MD5-crypt/.test(e.message),
  );
  assert.throws(
    () => validateConfig({ users: [{ name: 'carol', password: '{SSHA}abc', root: '/srv' }] }),
    (e: unknown) => e instanceof FtpConfigError && e.key === 'users.0.password' && /user "carol": not a password hash/.test(e.message),
  );
});

test('a dummy hash has the format and cost of the hash it stands for, and matches nothing', async () => {
  for (const encoded of [OTHER_TOOLS[2]![1], OTHER_TOOLS[1]![1], BCRYPT[0]![1]]) {
    const real = stored(encoded);
    const dummy = dummyLike(real);
    assert.equal(costKey(dummy), costKey(real));
    assert.equal(await verifyStoredHash('secret', dummy), false);
    assert.equal(await verifyStoredHash('', dummy), false);
  }
});

test('ConfigUserStore: migrated users log in, and the credential cache works for every format', async () => {
  const storage = new MemoryStorage();
  const store = new ConfigUserStore([
    { name: 'shadow512', passwordHash: OTHER_TOOLS[3]![1], storage },
    { name: 'shadow256', passwordHash: OTHER_TOOLS[2]![1], storage },
    { name: 'web', passwordHash: BCRYPT[3]![1], storage },
  ]);
  for (const name of ['shadow512', 'shadow256', 'web']) {
    assert.equal((await store.authenticate(name, UNICODE, ctx))?.name, name);
    assert.equal(await store.authenticate(name, 'wrong', ctx), null);
    assert.equal((await store.authenticate(name, UNICODE, ctx))?.name, name);
  }
  assert.equal(store.credentialCache.stats.hits, 3, 'each second login came from the cache');
  assert.equal(await store.authenticate('nobody', UNICODE, ctx), null);
});
