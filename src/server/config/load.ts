/**
 * Owns reading a configuration file: YAML (.yaml/.yml) or JSON (.json) by extension, validated against
 * schema.ts, with every problem reported as FtpConfigError naming the key path
 * (`users.1.permissions.wirte: unknown key (did you mean "write"?)`). Relative paths inside the file
 * (roots, log file, TLS certificate/key/state folder) are taken relative to the file's folder, so a config works from any current folder.
 */
import { readFile } from 'node:fs/promises';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { FtpConfigError } from '../../errors.js';
import { isS3Root } from '../storage/s3/keys.js';
import { configSchema, type ServeConfig } from './schema.js';

/** Dotted key path: users.1.permissions. */
export function keyPath(path: readonly PropertyKey[]): string {
  return path.map(String).join('.');
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** The keys an object at `path` accepts, found by walking the schema (for "did you mean"). */
function knownKeysAt(path: readonly PropertyKey[]): string[] {
  let schema: unknown = configSchema;
  const unwrap = (s: unknown): unknown => {
    // zod 4: optional/pipe/transform/effects wrappers keep the inner schema in _zod.def
    for (let guard = 0; guard < 10; guard++) {
      const def = (s as { _zod?: { def?: Record<string, unknown> } })?._zod?.def;
      if (!def) return s;
      if (def.innerType) s = def.innerType;
      else if (def.in && def.type === 'pipe') s = def.in;
      else return s;
    }
    return s;
  };
  for (const step of [...path, null]) {
    schema = unwrap(schema);
    const def = (schema as { _zod?: { def?: Record<string, unknown> } })?._zod?.def;
    if (!def) return [];
    if (def.type === 'union') {
      schema = (def.options as unknown[]).find((o) => (unwrap(o) as { _zod?: { def?: { type?: string } } })._zod?.def?.type === (typeof step === 'number' ? 'array' : 'object'));
      schema = unwrap(schema);
    }
    const d = (schema as { _zod?: { def?: Record<string, unknown> } })?._zod?.def;
    if (!d) return [];
    if (step === null) return d.type === 'object' ? Object.keys(d.shape as object) : [];
    if (d.type === 'object') schema = (d.shape as Record<string, unknown>)[String(step)];
    else if (d.type === 'array') schema = d.element;
    else return [];
  }
  return [];
}

function describeIssue(issue: z.core.$ZodIssue): { key: string; message: string }[] {
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeysAt(issue.path);
    return issue.keys.map((k) => {
      const close = known.filter((c) => editDistance(c.toLowerCase(), k.toLowerCase()) <= 2);
      const hint = close.length ? ` (did you mean "${close[0]}"?)` : known.length ? ` (known keys: ${known.join(', ')})` : '';
      return { key: keyPath([...issue.path, k]), message: `unknown key${hint}` };
    });
  }
  if (issue.code === 'invalid_union' && !('discriminator' in issue && issue.discriminator)) {
    // Report the branch the value was meant for (the one whose type matched), e.g. the list element
    // that is misspelt, rather than "matches none of three forms".
    const meant = issue.errors.filter((errs) => !errs.some((e) => e.path.length === 0 && (e.code === 'invalid_type' || e.code === 'invalid_value')));
    if (meant.length === 1) return meant[0]!.flatMap((e) => describeIssue({ ...e, path: [...issue.path, ...e.path] } as z.core.$ZodIssue));
  }
  const message = issue.message.replace(/^Invalid input: /, '');
  return [{ key: keyPath(issue.path), message }];
}

/** Turn zod issues into one FtpConfigError: the first key names the error, the message lists them all. */
export function configErrorFromIssues(issues: readonly z.core.$ZodIssue[], source?: string): FtpConfigError {
  const problems = issues.flatMap(describeIssue);
  const first = problems[0] ?? { key: '', message: 'invalid configuration' };
  const more = problems.slice(1).map((p) => `${p.key || '(top level)'}: ${p.message}`);
  const where = source ? ` (in ${source})` : '';
  const rest = more.length ? `; also ${more.join('; ')}` : '';
  return new FtpConfigError(first.key, `${first.message}${rest}${where}`);
}

/** Validate an already parsed value (e.g. from an embedding application). Throws FtpConfigError. */
export function validateConfig(value: unknown, source?: string): ServeConfig {
  const result = configSchema.safeParse(value ?? {});
  if (!result.success) throw configErrorFromIssues(result.error.issues, source);
  return result.data;
}

/** Make the file-relative paths absolute (only keys that are present; "not given" stays absent). */
function resolvePaths(config: ServeConfig, base: string): ServeConfig {
  // An s3://bucket/prefix/ root is not a host path (storage/s3/keys.ts).
  const abs = (p: string) => (isAbsolute(p) || isS3Root(p) ? p : resolve(base, p));
  const out: ServeConfig = { ...config };
  const folders = <F extends { root: string }>(list: F[] | undefined) => list?.map((f) => ({ ...f, root: abs(f.root) }));
  if (config.anonymous) {
    const anon = { ...config.anonymous };
    if (anon.root !== undefined) anon.root = abs(anon.root);
    if (anon.folders) anon.folders = folders(anon.folders);
    out.anonymous = anon;
  }
  if (config.users) out.users = config.users.map((u) => ({ ...u, root: abs(u.root), ...(u.folders ? { folders: folders(u.folders) } : {}) }));
  if (config.log) {
    const log = { ...config.log };
    if (log.file !== undefined) log.file = abs(log.file);
    if (log.xferlog !== undefined) log.xferlog = abs(log.xferlog);
    out.log = log;
  }
  if (config.tls) {
    const tls = { ...config.tls };
    if (tls.cert !== undefined) tls.cert = abs(tls.cert);
    if (tls.key !== undefined) tls.key = abs(tls.key);
    if (tls.stateDir !== undefined) tls.stateDir = abs(tls.stateDir);
    out.tls = tls;
  }
  if (config.admin) {
    const admin = { ...config.admin };
    for (const key of ['tokenFile', 'cert', 'key'] as const) if (admin[key] !== undefined) admin[key] = abs(admin[key]);
    out.admin = admin;
  }
  return out;
}

/** Read, parse and validate a configuration file. Throws FtpConfigError. */
export async function loadConfigFile(file: string): Promise<ServeConfig> {
  const path = resolve(file);
  const ext = extname(path).toLowerCase();
  if (!['.yaml', '.yml', '.json'].includes(ext)) {
    throw new FtpConfigError('', `${file}: unknown configuration format "${ext || '(no extension)'}": use .yaml, .yml or .json`);
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new FtpConfigError('', `cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code ?? String(err)}`, { cause: err });
  }
  let value: unknown;
  try {
    value = ext === '.json' ? JSON.parse(text) : parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    const detail = err instanceof YAMLParseError ? yamlErrorText(err) : (err as Error).message;
    throw new FtpConfigError('', `${file}: not valid ${ext === '.json' ? 'JSON' : 'YAML'}: ${detail}`, { cause: err });
  }
  if (value !== null && value !== undefined && (typeof value !== 'object' || Array.isArray(value))) {
    throw new FtpConfigError('', `${file}: the top level must be a mapping of keys (host, port, users, ...)`);
  }
  return resolvePaths(validateConfig(value, file), dirname(path));
}

/**
 * yaml's pretty message is "<problem> at line L, column C:" followed by the source line and a caret: one
 * line for a log, with the source line quoted instead of the dangling colon.
 */
function yamlErrorText(err: YAMLParseError): string {
  const [first = '', ...rest] = err.message.split('\n');
  // The line the caret points at is the one just above it (yaml prints a line or two of context first).
  const caret = rest.findIndex((line) => /^\s*\^+\s*$/.test(line));
  const source = caret > 0 ? rest[caret - 1] : rest.find((line) => line.trim() !== '');
  return `${first.replace(/:\s*$/, '')}${source ? ` (near "${source.trim()}")` : ''}`;
}
