/**
 * How get/put show a transfer in MODE Z or B (client/transfer-mode.ts): the file's size, and the bytes the
 * wire carried beside it; --json adds `fileBytes` and `transferMode` (`bytes` stays the wire's, as before).
 */
import type { TransferResult } from '../client/file-transfers.js';
import { humanBytes } from './client-output.js';

export function sizeAndWire(r: TransferResult): string {
  if (!r.transferMode || r.transferMode === 'S' || r.fileBytes === undefined) return humanBytes(r.bytes);
  return `${humanBytes(r.fileBytes)} (MODE ${r.transferMode}: ${humanBytes(r.bytes)} on the wire)`;
}

export function modeFields(r: TransferResult): { fileBytes?: number; transferMode?: string } {
  return r.transferMode && r.transferMode !== 'S' ? { fileBytes: r.fileBytes, transferMode: r.transferMode } : {};
}
