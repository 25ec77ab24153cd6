/** The commands that move data over a data connection (RFC 959 s4.1.3; MLSD RFC 3659 s7). Pure. */
export const TRANSFER_VERBS: ReadonlySet<string> = new Set(['LIST', 'NLST', 'MLSD', 'RETR', 'STOR', 'STOU', 'APPE']);

/** Whether a command line (or a verb) is one of them; case-insensitive, like the verbs on the wire. */
export function isTransferCommand(command: string): boolean {
  return TRANSFER_VERBS.has(command.split(' ')[0]!.toUpperCase());
}
