/**
 * What the bench's stand-alone runs (fuzz, soak, modes) share: writing a report to stdout and to its file,
 * and running when the file is the process's entry point (`node --import tsx bench/soak.ts ...`) rather
 * than imported by bench/main.ts.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** Prints the Markdown report and writes it to `out`, saying where on stderr under `tag`. */
export function writeReport(out: string, md: string, tag: string): void {
  process.stdout.write(md);
  writeFileSync(out, md);
  process.stderr.write(`[${tag}] written to ${out}\n`);
}

/** Runs `run(argv)` as the process's main when `moduleUrl` (import.meta.url) is the entry point. */
export function runIfMain(moduleUrl: string, name: string, run: (argv: string[]) => Promise<number>): void {
  const entry = process.argv[1];
  if (!entry || moduleUrl !== pathToFileURL(path.resolve(entry)).href) return;
  run(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err: Error) => {
    process.stderr.write(`${name}: ${err.stack ?? err.message}\n`);
    process.exitCode = 1;
  });
}
