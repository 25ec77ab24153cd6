/**
 * Test helper: Debian's chromium (no browser download; .ci/run installs it) driven by puppeteer-core, for the
 * pages ftpkit writes or serves. CHROMIUM is undefined when it is not installed (the tests skip, saying so).
 */
import { existsSync } from 'node:fs';
import type { Browser, Page } from 'puppeteer-core';

export const CHROMIUM = process.env.FTPKIT_CHROMIUM ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find(p => existsSync(p));
export const NO_CHROMIUM = 'chromium is not installed (Debian package "chromium", see .ci/run)';

/** A headless browser (closed after the test) and a page whose requests are noted in `requested`. */
export async function openPage(t: { after(fn: () => unknown): void }, width: number): Promise<{ browser: Browser; page: Page; requested: string[] }> {
  const { default: puppeteer } = await import('puppeteer-core');
  const browser = await puppeteer.launch({ executablePath: CHROMIUM!, headless: true,
    // Root in CI: Chromium's sandbox needs an unprivileged user.
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
  t.after(() => browser.close());
  const page = await browser.newPage();
  const requested: string[] = [];
  page.on('request', req => { requested.push(req.url()); });
  await page.setViewport({ width, height: 900 });
  return { browser, page, requested };
}
