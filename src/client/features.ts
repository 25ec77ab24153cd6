/**
 * FEAT reply parsing (RFC 2389 s3.2): "211-Features:", one feature per line indented by a space, "211 End".
 * Keys are upper-cased feature names; values the rest of the line (e.g. MLST -> "type*;size*;modify*;").
 */
import type { FtpResponse } from '../protocol/reply-parser.js';

export function parseFeatures(reply: FtpResponse): Map<string, string> {
  const features = new Map<string, string>();
  if (reply.code !== 211) return features;
  for (const line of reply.lines.slice(1, -1)) {
    // RFC 2389 s3.2: each feature line starts with a space; be lenient with servers that omit it.
    const text = line.replace(/^211-/, '').trim();
    if (!text) continue;
    const sp = text.indexOf(' ');
    const name = (sp < 0 ? text : text.slice(0, sp)).toUpperCase();
    features.set(name, sp < 0 ? '' : text.slice(sp + 1).trim());
  }
  return features;
}
