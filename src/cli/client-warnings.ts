/**
 * Warnings of the client CLI on stderr: what the library reports as an event and a user must not miss,
 * although the command goes on (a listing line no parser understood: docs/client.md#listings).
 */
import type { UnparsedListingEvent } from '../client/events.js';
import { escapeControls } from './client-output.js';

/** How many of the lines themselves are shown; -v's transcript and --json's `unparsed` have them all. */
const SHOWN_LINES = 3;

export function unparsedListingWarning(e: UnparsedListingEvent): string {
  const shown = e.lines.slice(0, SHOWN_LINES).map(l => `  ${escapeControls(l.length > 200 ? `${l.slice(0, 200)}...` : l)}\n`).join('');
  const more = e.lines.length > SHOWN_LINES ? `  (${e.lines.length - SHOWN_LINES} more)\n` : '';
  return `ftpkit: warning: the listing of ${escapeControls(e.path)} has ${e.lines.length} line(s) no parser understood; `
    + `they are left out:\n${shown}${more}`;
}
