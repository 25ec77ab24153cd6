/** One product's lines, ready to paste: where they go, the lines, and what to mind (for the report). */
export interface FixBlock {
  /** "vsftpd", "nftables (the server's host)", "curl"... */
  product: string;
  /** Where the lines go: a file, a shell, a dialog. */
  where: string;
  lines: string[];
  /** What to mind: a limitation of the product, a value that is a suggestion. */
  note?: string;
}

export function rangeText(r: { min: number; max: number }, sep = '-'): string {
  return `${r.min}${sep}${r.max}`;
}
