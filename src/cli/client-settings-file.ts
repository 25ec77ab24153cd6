/**
 * The --settings file of the client commands: a ClientSettings object in JSON, or the doctor's `--json`
 * output (its `recommended.settings`), checked against a schema. Its own module so that zod is loaded only
 * when a command is given --settings (client-options.ts imports it on demand; CLI start-up, issue 10).
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { FtpConfigError, FtpUsageError } from '../errors.js';
import type { ClientSettings } from '../client/options.js';
import { normalizePin } from '../net/tls-pin.js';
import { findingWithoutSettings } from '../doctor/verdict.js';
import type { Cause } from '../doctor/types.js';

const pinSchema = z.string().refine(p => normalizePin(p) !== undefined,
  { message: 'not a SHA-256 certificate fingerprint (expected sha256: followed by 32 hex bytes, e.g. sha256:AB:CD:...)' });
const portRange = z.object({ min: z.number().int().min(1).max(65535), max: z.number().int().min(1).max(65535) });
const settingsSchema = z.looseObject({
  secure: z.enum(['none', 'explicit', 'implicit']).optional(),
  transferType: z.enum(['binary', 'ascii']).optional(),
  transferMode: z.enum(['S', 'Z', 'B', 'auto']).optional(),
  tls: z.looseObject({
    authCommand: z.enum(['TLS', 'SSL']).optional(),
    protectData: z.boolean().optional(),
    rejectUnauthorized: z.boolean().optional(),
    pin: z.union([pinSchema, z.array(pinSchema)]).optional(),
    ca: z.union([z.string(), z.array(z.string())]).optional(),
    caFile: z.string().optional(),
    cert: z.string().optional(), key: z.string().optional(),
    certFile: z.string().optional(), keyFile: z.string().optional(),
    servername: z.string().optional(),
    minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).optional(),
    maxVersion: z.enum(['TLSv1.2', 'TLSv1.3']).optional(),
    clearCommandChannel: z.boolean().optional(),
  }).optional(),
  data: z.looseObject({
    mode: z.enum(['passive', 'active']).optional(),
    passive: z.looseObject({
      command: z.enum(['auto', 'epsv', 'pasv']).optional(),
      addressPolicy: z.enum(['reply', 'control', 'auto']).optional(),
    }).optional(),
    active: z.looseObject({
      command: z.enum(['auto', 'eprt', 'port']).optional(),
      portRange: portRange.optional(),
      advertiseAddress: z.string().optional(),
      bindAddress: z.string().optional(),
    }).optional(),
    fallback: z.boolean().optional(),
  }).optional(),
});

/**
 * Parse a --settings file: a ClientSettings object, or the doctor's `--json` output, whose
 * `recommended.settings` field is one.
 */
export function parseSettingsJson(text: string, file = 'settings'): ClientSettings {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new FtpConfigError(file, `not valid JSON: ${(err as Error).message}`);
  }
  let candidate = json;
  let prefix = '';
  const obj = (json ?? {}) as { recommended?: { settings?: unknown }; steps?: unknown; matrix?: unknown };
  const rec = obj.recommended;
  if (rec && typeof rec === 'object' && 'settings' in rec) { candidate = rec.settings; prefix = 'recommended.settings.'; }
  else if (typeof json === 'object' && json !== null && ('steps' in obj || 'matrix' in obj)) {
    // A doctor finding in which nothing worked has no recommendation: using it as empty settings would
    // silently run with the defaults the doctor just saw fail.
    // It exits as the doctor did for it (3 login, 6 certificate, 5 network), with the doctor's causes.
    throw findingWithoutSettings({ causes: Array.isArray((obj as { causes?: unknown }).causes) ? (obj as { causes: Cause[] }).causes : [] }, file);
  }
  const parsed = settingsSchema.safeParse(candidate);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new FtpConfigError(`${prefix}${issue.path.join('.')}`, `${issue.message} (in ${file})`);
  }
  return parsed.data as ClientSettings;
}

export async function loadSettingsFile(file: string): Promise<ClientSettings> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new FtpUsageError(`cannot read --settings ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  return parseSettingsJson(text, file);
}
