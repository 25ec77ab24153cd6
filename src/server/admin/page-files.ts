/**
 * Owns the status page's files: one HTML file, one script and one style sheet in assets/admin/ of the
 * package (no build step, no CDN, nothing fetched from elsewhere at run time), read once when the admin
 * listener starts. The same relative path reaches assets/ from src/server/admin/ (tsx) and from
 * dist/server/admin/ (the installed package).
 */
import { readFile } from 'node:fs/promises';

export interface PageFile { body: Buffer; type: string }

const FILES: Record<string, { name: string; type: string }> = {
  '/': { name: 'index.html', type: 'text/html; charset=utf-8' },
  '/status.js': { name: 'status.js', type: 'text/javascript; charset=utf-8' },
  '/status.css': { name: 'status.css', type: 'text/css; charset=utf-8' },
};

export const PAGE_DIR = new URL('../../../assets/admin/', import.meta.url);

/** URL path -> file, for the paths the page is made of. */
export async function loadPageFiles(dir: URL = PAGE_DIR): Promise<Map<string, PageFile>> {
  const out = new Map<string, PageFile>();
  for (const [path, f] of Object.entries(FILES)) out.set(path, { body: await readFile(new URL(f.name, dir)), type: f.type });
  return out;
}

/**
 * What the page may do (Content-Security-Policy): its own script and style only, fetches to this origin
 * only, no frames, no forms posted anywhere, no inline script (a value that slipped through unescaped still
 * could not run).
 */
export const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
  + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
