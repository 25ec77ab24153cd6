/**
 * Pure inference: probe outcomes -> causes (in the user's words) -> recommended settings. No sockets.
 *
 * The rules follow how NAT, ALGs and firewalls behave in general, not a list of known setups:
 *  - a silently dropped SYN shows as a timeout, a REJECT rule or a closed port as a fast reset;
 *  - NAT hides a host's address: a server behind NAT that is not told its public address puts its private
 *    address in 227 (RFC 959 s4.1.2); a client behind NAT puts its private address in PORT, and servers refuse
 *    PORT to an address other than the control peer (RFC 2577 s3 bounce protection);
 *  - an FTP ALG reads the cleartext control connection to rewrite 227/PORT and open the data port; under TLS
 *    (RFC 4217) it reads nothing, so what worked in cleartext fails with TLS;
 *  - firewalls are directional: passive needs the server side open inbound, active the client side.
 * Each cause quotes the observations (reply text, addresses, times) that support it.
 */
import { settingsFor } from './plan.js';
import type { Cause, Note, Recommendation } from './types.js';
import { describeOutcome } from './words.js';
import { equivalents } from './equivalents.js';
import { inconclusive, type InferenceInput } from './infer-shared.js';
import { inferControl } from './infer-control.js';
import { inferData } from './infer-data.js';

export type { InferenceInput } from './infer-shared.js';

export interface Inference {
  causes: Cause[];
  works: string[];
  recommended: Recommendation | undefined;
  /** Facts that are not connection problems (read-only access, the server's session limit). */
  notes: Note[];
}

/** Control-connection causes first (they stop the diagnosis early), then the data matrix, then the pick. */
export function infer(input: InferenceInput): Inference {
  const causes: Cause[] = [];
  const add = (c: Cause): void => { if (!causes.some(x => x.code === c.code)) causes.push(c); };
  inferControl(input, causes, add);
  const works = inferData(input, causes, add);
  const byId = new Map(input.matrix.map(r => [r.spec.id, r]));

  // ---- recommendation ---------------------------------------------------------------------------------
  let recommended: Recommendation | undefined;
  const best = works[0] ? byId.get(works[0]) : undefined;
  if (best) {
    const settings = settingsFor(best.spec, { secure: input.secure, ...(input.tls ? { tls: input.tls } : {}) });
    recommended = {
      settings, probeId: best.spec.id,
      reason: `${best.spec.label}: ${describeOutcome(best.outcome)}` + (works.length > 1 ? `; ${works.length - 1} other combination(s) also work` : ''),
      equivalents: equivalents(settings, { host: input.host, port: input.port, ...(input.localAddress ? { localAddress: input.localAddress } : {}),
        ...(input.certificate?.pinned && input.certificate.chain[0]?.spkiSha256 ? { pinnedPublicKey: input.certificate.chain[0].spkiSha256 } : {}) }),
    };
  }
  return { causes, works, recommended, notes: notesOf(input) };
}

/** What the user should know that is no connection problem: never under "Diagnosis". */
function notesOf(input: InferenceInput): Note[] {
  const notes: Note[] = [];
  if (input.sessionLimit) {
    const n = input.sessionLimit.sessions;
    notes.push({ code: 'session-limit', title: `the server allows ${n} session${n === 1 ? '' : 's'} from your address`,
      detail: `one more was refused: ${input.sessionLimit.reply}. The doctor kept to ${n} at a time; so must parallel transfers `
        + `(ftpkit mirror --parallel ${n}, FileZilla "maximum simultaneous transfers", lftp set net:connection-limit ${n}).` });
  }
  const m = input.matrix.filter(r => r.outcome.kind !== 'skipped' && !inconclusive(r));
  const ro = m.find(r => r.outcome.kind === 'ok' && r.transfer?.upload === 'readonly');
  if (ro && !m.some(r => r.transfer?.upload === 'ok')) {
    notes.push({ code: 'readonly', title: 'you can read but not write here (uploads are refused)',
      detail: ro.transfer?.note ?? 'the upload was refused by the server' });
  }
  return notes;
}

