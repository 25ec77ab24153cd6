/**
 * A download that ends short of the file (docs/client.md#short-downloads). In MODE S the end of the data
 * connection is the end of the file (RFC 959 s3.4.1), so when something between the two sides closes the
 * data connection early with a FIN (a NAT or firewall timing out, a proxy), and the server had already
 * handed all its bytes to its own kernel, the client gets a short file *and* a 226. Only a size known
 * beforehand tells the two apart: SIZE (RFC 3659 s4), the caller's listing, or the "(N bytes)" that
 * vsftpd, proftpd and ftpkit put in the 150 reply (curl reads it too: CURLE_PARTIAL_FILE). A file that
 * really shrank meanwhile is told from a cut by asking SIZE again.
 */
import { FtpNetworkError, FtpProtocolError, FtpReplyError } from '../errors.js';
import type { FtpResponse } from '../protocol/reply-parser.js';
import { readSize } from './remote-ops.js';
import type { ClientSession } from './session.js';

/**
 * The "(N bytes)" that ends a 150 reply, e.g. "Opening BINARY mode data connection for a.bin (8389385 bytes).".
 * Only at the end, where the servers put it: a file name that contains "(5 bytes)" is not taken for it.
 */
export function announcedSize(reply: FtpResponse | undefined): number | undefined {
  const m = reply ? /\((\d{1,16}) bytes?\)\.?\s*$/i.exec(reply.message) : null;
  const n = m ? Number(m[1]) : NaN;
  return Number.isSafeInteger(n) ? n : undefined;
}

export interface DownloadEnd {
  remotePath: string;
  /** The REST offset the transfer started at. */
  startAt: number;
  /** Bytes of the file that arrived in this transfer. */
  fileBytes: number;
  /** The file's size from SIZE or the caller (a listing), when known. */
  knownSize: number | undefined;
  /** The first 1xx reply to RETR. */
  openingReply: FtpResponse | undefined;
  /** The final reply's code (226 or 250), for the message. */
  finalCode: number;
  ascii: boolean;
}

/** Where a download ended against the size it was held to. */
export interface Shortfall {
  reached: number;
  expected: number;
  /** Where `expected` came from, for the messages. */
  source: 'its size' | 'the size announced in the 150 reply';
}

/**
 * Whether a download ended before the size known for it; undefined when it did not, or nothing is known.
 * TYPE A is not checked: the sizes count the server's bytes, not the converted ones. The 150's number
 * counts only without REST: after REST 100, vsftpd still announces the file's size and proftpd what is
 * left of it. A file that grew meanwhile is not short.
 */
export function shortfall(end: DownloadEnd): Shortfall | undefined {
  if (end.ascii) return undefined;
  const announced = end.startAt === 0 ? announcedSize(end.openingReply) : undefined;
  const expected = end.knownSize ?? announced;
  if (expected === undefined) return undefined;
  const reached = end.startAt + end.fileBytes;
  if (reached >= expected) return undefined;
  return { reached, expected, source: end.knownSize !== undefined ? 'its size' : 'the size announced in the 150 reply' };
}

export function shortDownloadError(end: DownloadEnd, short: Shortfall, sizeNow?: number): FtpNetworkError {
  const now = sizeNow !== undefined ? `, and SIZE says ${sizeNow} now` : '';
  return new FtpNetworkError({
    connection: 'data', phase: 'transfer', failure: 'closed',
    message: `the data connection for ${end.remotePath} closed at byte ${short.reached} of ${short.expected} (${short.source}${now}), `
      + `though the server answered ${end.finalCode}: something between the two sides cut it short`,
  });
}

/**
 * Throws when the download ended short. Where the server has SIZE, a short download is asked about once
 * more: a file that now ends exactly where the download ended changed on the server after its size was
 * learnt (a mirror's listing can be minutes old), and the download is that file; a status line says so.
 */
export async function checkDownloadEnd(session: ClientSession, end: DownloadEnd): Promise<void> {
  const short = shortfall(end);
  if (!short) return;
  const sizeNow = session.features.has('SIZE')
    ? await readSize(session, end.remotePath).catch((e: unknown) => {
      if (e instanceof FtpReplyError || e instanceof FtpProtocolError) return undefined;
      throw e;
    })
    : undefined;
  if (sizeNow === short.reached) {
    session.status(`${end.remotePath}: ${sizeNow} bytes by SIZE now, not ${short.expected} (${short.source}): `
      + 'the file changed on the server meanwhile; the download has all of it');
    return;
  }
  throw shortDownloadError(end, short, sizeNow);
}
