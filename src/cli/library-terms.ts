/**
 * The library's messages name its options ("tls.ca", "secure: 'implicit'", "addressPolicy control"); a CLI
 * user sets the flags instead. This is the one place where those names are put in CLI terms, at the edge:
 * error messages, the -v transcript and tree events. The library keeps its own terms (docs/client.md).
 */
import type { ClientFlags } from './client-options.js';

/** Option words in library messages -> what a CLI user types. */
const PHRASES: ReadonlyArray<readonly [RegExp, string]> = [
  [/ \(tls\.ca\)/g, ''], // "--ca FILE (tls.ca)"
  [/\(secure: 'implicit', an ftps:\/\/ URL\)/g, '(an ftps:// URL)'],
  [/secure: 'implicit'/g, 'an ftps:// URL'],
  [/secure: 'explicit'/g, '--tls'],
  [/leave tls\.protectData on/g, 'remove "protectData": false from the --settings file'],
  [/set tls\.servername/g, 'set "tls": { "servername": "NAME" } in a --settings file'],
  [/\(passive command auto\)/g, '(EPSV, then PASV)'],
  [/\(passive command epsv\)/g, '(--epsv-only)'],
  [/\(passive command pasv\)/g, '(--no-epsv)'],
  [/\(addressPolicy (reply|control|auto)\)/g, '(--pasv-host $1)'],
  [/active advertiseAddress/g, '--port-address'],
];

/** Configuration keys that a flag sets -> the flag, when the value came from that flag (not --settings). */
const FLAG_KEYS: ReadonlyArray<readonly [string, keyof ClientFlags, string]> = [
  ['tls.caFile', 'ca', '--ca'],
  ['tls.certFile', 'cert', '--cert'],
  ['tls.keyFile', 'key', '--key'],
];

/** `message` with library option names replaced by the CLI's flags and URL forms. */
export function inCliTerms(message: string, flags: ClientFlags = {}): string {
  let out = message;
  for (const [key, flag, name] of FLAG_KEYS) {
    if (flags[flag] !== undefined && out.startsWith(`${key}: `)) out = `${name}${out.slice(key.length)}`;
  }
  for (const [pattern, replacement] of PHRASES) out = out.replace(pattern, replacement);
  return out;
}
