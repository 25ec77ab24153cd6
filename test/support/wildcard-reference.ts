/**
 * The reference the wildcard matcher (src/protocol/wildcard.ts) is checked against, in its unit test and in
 * the fuzz suite: the textbook O(n*m) table over code points, obviously right and obviously slow.
 */
export function referenceWildcardMatch(pattern: string, name: string): boolean {
  const p = Array.from(pattern);
  const s = Array.from(name);
  let row = new Array<boolean>(s.length + 1).fill(false);
  row[0] = true;
  for (const c of p) {
    const next = new Array<boolean>(s.length + 1).fill(false);
    if (c === '*') {
      next[0] = row[0]!;
      for (let j = 1; j <= s.length; j++) next[j] = row[j]! || next[j - 1]!;
    } else {
      for (let j = 1; j <= s.length; j++) next[j] = row[j - 1]! && (c === '?' || c === s[j - 1]);
    }
    row = next;
  }
  return row[s.length]!;
}
