/**
 * Owns the ways a permission set is written in configuration and on the command line:
 * a preset name ("read-only", "read-write"), a list of permission names ("list,read,write"), or an
 * object of booleans on top of a preset ({ preset: read-only, write: true }).
 */
import { FtpUsageError } from '../../errors.js';
import { READ_ONLY, READ_WRITE, type Permission, type Permissions } from './types.js';

export const PERMISSION_NAMES: readonly Permission[] = Object.freeze(
  ['list', 'read', 'write', 'append', 'delete', 'rename', 'mkdir', 'rmdir', 'chmod'] as const,
);

export const PERMISSION_PRESETS = Object.freeze({ 'read-only': READ_ONLY, 'read-write': READ_WRITE });
export type PermissionPreset = keyof typeof PERMISSION_PRESETS;

export type PermissionSpec =
  | PermissionPreset
  | readonly Permission[]
  | ({ preset?: PermissionPreset } & Partial<Permissions>);

export function isPermissionName(name: string): name is Permission {
  return (PERMISSION_NAMES as readonly string[]).includes(name);
}

/** Turn a spec into a full permission set. Object keys not given take the preset's value (default read-only). */
export function resolvePermissions(spec: PermissionSpec | undefined, fallback: Readonly<Permissions>): Permissions {
  if (spec === undefined) return { ...fallback };
  if (typeof spec === 'string') return { ...PERMISSION_PRESETS[spec] };
  if (Array.isArray(spec)) {
    const set: Permissions = { ...READ_ONLY };
    for (const key of PERMISSION_NAMES) set[key] = false;
    for (const key of spec as readonly Permission[]) set[key] = true;
    return set;
  }
  const { preset, ...overrides } = spec as { preset?: PermissionPreset } & Partial<Permissions>;
  const set: Permissions = { ...PERMISSION_PRESETS[preset ?? 'read-only'] };
  for (const key of PERMISSION_NAMES) {
    const value = overrides[key];
    if (value !== undefined) set[key] = value;
  }
  return set;
}

/** Parse the command-line form: a preset name or a comma-separated list of names. Throws FtpUsageError. */
export function parsePermissionText(text: string): Permissions {
  const trimmed = text.trim();
  if (trimmed === 'read-only' || trimmed === 'read-write') return resolvePermissions(trimmed, READ_ONLY);
  const names = trimmed.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const bad = names.filter((n) => !isPermissionName(n));
  if (names.length === 0 || bad.length > 0) {
    throw new FtpUsageError(`unknown permission ${bad.length ? `"${bad.join('", "')}"` : '(empty)'}: use read-only, read-write or a list of ${PERMISSION_NAMES.join(', ')}`);
  }
  return resolvePermissions(names as Permission[], READ_ONLY);
}

/** "list,read,write" — for banners and logs. */
export function describePermissions(set: Readonly<Permissions>): string {
  if (PERMISSION_NAMES.every((k) => set[k] === READ_WRITE[k])) return 'read-write';
  if (PERMISSION_NAMES.every((k) => set[k] === READ_ONLY[k])) return 'read-only';
  return PERMISSION_NAMES.filter((k) => set[k]).join(',') || 'none';
}
