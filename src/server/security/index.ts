/** Owns the public surface of the server's defender (re-exported by `ftpkit/server`). */
export { Defender, addressKey, type ActiveBan, type AddressRefusal, type DefenderEventKind } from './defender.js';
export {
  resolveDefenderOptions, DEFAULT_DEFENDER_SCORES, type DefenderOptions, type DefenderScores, type ResolvedDefenderOptions,
} from './defender-options.js';
export { ScoreBook, type ScoreBookOptions, type NewBan } from './score-book.js';
