/**
 * Running one transfer on a session: the data.fallback rule (retry once in the other mode when the data
 * connection itself could not be established, FileZilla's "fall back to the other mode"), the caller's
 * AbortSignal, and the session's current transfer (for FtpClient.abort()).
 */
import { FtpAbortedError, FtpClosedError } from '../errors.js';
import type { FtpResponse } from '../protocol/reply-parser.js';
import { isDataConnectionFailure, type DataMode } from './data-channel.js';
import type { ClientSession } from './session.js';
import { Transfer, type TransferSpec } from './transfer.js';
import type { WireMode } from './transfer-mode.js';

export interface TransferOutcome {
  reply: FtpResponse;
  bytes: number;
  mode: DataMode;
  /** Bytes of the file (differs from `bytes`, the wire's, in TYPE A and MODE Z/B). */
  fileBytes: number;
  /** The MODE it ran in (S, Z or B). */
  transferMode: WireMode;
  /** The first 1xx reply to the transfer command, when the server sent one. */
  openingReply?: FtpResponse;
}

/** Run one transfer; `makeSpec` is called again for the retry (an upload reopens its source). */
export async function runTransfer(session: ClientSession, makeSpec: () => TransferSpec | Promise<TransferSpec>,
  path: string, signal?: AbortSignal): Promise<TransferOutcome> {
  if (signal?.aborted) throw new FtpAbortedError(`transfer of ${path} aborted before it started`);
  const settings = session.options.data ?? {};
  const first: DataMode = settings.mode ?? 'passive';
  const attempt = new Transfer(session, first, await makeSpec());
  try {
    return await runOnce(session, attempt, signal);
  } catch (e) {
    // A transfer that moved data is not repeated from scratch: the other mode would duplicate or truncate.
    if (!settings.fallback || !isDataConnectionFailure(e) || attempt.movedData || !session.connected) throw e;
    const other: DataMode = first === 'passive' ? 'active' : 'passive';
    session.events.fallback({ from: first, to: other, reason: 'connection-failed', error: e as Error });
    const spec = await makeSpec();
    return await runOnce(session, new Transfer(session, other, spec), signal);
  }
}

async function runOnce(session: ClientSession, t: Transfer, signal: AbortSignal | undefined): Promise<TransferOutcome> {
  session.transfer = t;
  const onAbort = (): void => t.abort('aborted by the AbortSignal');
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const reply = await t.run();
    return { reply, bytes: t.bytes, mode: t.mode, fileBytes: t.fileBytes, transferMode: t.wireMode,
      ...(t.openingReply ? { openingReply: t.openingReply } : {}) };
  } catch (e) {
    if (session.lifetime.aborted && !(e instanceof FtpClosedError)) {
      throw new FtpClosedError('the client was destroyed', { cause: e });
    }
    throw e;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (session.transfer === t) session.transfer = undefined;
  }
}

/** Abort the session's running transfer (ABOR); resolves when it has settled. */
export async function abortTransfer(session: ClientSession): Promise<void> {
  const t = session.transfer;
  if (!t) return;
  t.abort();
  await t.promise.then(() => undefined, () => undefined);
}
