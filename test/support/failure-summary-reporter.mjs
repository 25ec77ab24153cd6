/**
 * A `node --test` reporter that prints nothing until the run ends, then repeats every failed test: its name
 * under the suites it is in, its file, and the first lines of its error. test/run.ts adds it after the usual
 * TAP output, so the failures are the last thing a run prints: CI keeps only the tail of a long log, and a
 * failure among 1,300 passing tests must not be lost in the middle of it.
 * test/unit/failure-summary-reporter.test.ts runs it.
 *
 * Plain JavaScript on purpose: node loads reporters before --import hooks apply to them.
 */

const ERROR_LINES = 12;

/** @param {unknown} error */
function errorText(error) {
  if (!error || typeof error !== 'object') return String(error);
  // node wraps a test's own error as { failureType, cause }; the cause is what the test threw.
  const cause = /** @type {{ cause?: unknown }} */ (error).cause ?? error;
  const text = cause instanceof Error ? (cause.stack ?? cause.message) : String(cause);
  // node's own frames say nothing about the test.
  return text.split('\n').filter((l) => !/\(node:|at node:/.test(l)).slice(0, ERROR_LINES).join('\n');
}

/** @param {AsyncIterable<{ type: string, data: any }>} source */
export default async function* failureSummary(source) {
  /** @type {string[]} */
  const failures = [];
  // The names of the suites each file is in, by nesting level, so that a failed "plain IPv6" is shown
  // under the suite that says which server it was.
  /** @type {Map<string, string[]>} */
  const open = new Map();
  for await (const event of source) {
    const { name, file, nesting, details } = event.data ?? {};
    const where = file ?? '(unknown file)';
    if (event.type === 'test:start') {
      const names = open.get(where) ?? [];
      names.length = nesting;
      names.push(name);
      open.set(where, names);
      continue;
    }
    if (event.type !== 'test:fail') continue;
    // A suite or file fails when a test in it does; the test itself is already listed.
    if (details?.error?.failureType === 'subtestsFailed') continue;
    const title = [...(open.get(where) ?? []).slice(0, nesting), name].join(' > ');
    failures.push(`✖ ${title}\n  at ${where}\n${errorText(details?.error).replace(/^/gm, '    ')}`);
  }
  if (failures.length === 0) return;
  yield `\n# ${failures.length} failed test${failures.length === 1 ? '' : 's'} (repeated here from above):\n`;
  for (const f of failures) yield `${f}\n`;
}
