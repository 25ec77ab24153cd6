/**
 * The package version that `ftpkit --version` prints. Its own module, without commander: main.ts answers a
 * bare `--version` from here before loading the CLI framework (start-up, issue 10).
 */
import { readFileSync } from 'node:fs';

export function packageVersion(): string {
  try {
    // src/cli/ and dist/cli/ are both two levels below the package root.
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}
