/**
 * Measures what a password brute force does to an FTP server (issue 12): `--workers` connections from one
 * address (--attack-from, default 127.0.0.1) send wrong passwords for --user until --guesses have been
 * sent or --duration has passed, reconnecting whenever the server closes; meanwhile a legitimate client
 * from another address (--from, default 127.0.0.2: any 127/8 address works on Linux) logs in with the right
 * password again and again. Prints how the attack was answered (530, 421 at PASS, 421 at connect) and the
 * legitimate logins' times (connect to 230) p50 and max, as text and, with --json, as one JSON line.
 *
 *   node --import tsx scripts/brute-force.ts --port 2121 --user alice --password secret [--guesses 500] \
 *     [--workers 20] [--duration 30] [--attack-from 127.0.0.1] [--from 127.0.0.2] [--json]
 *
 * Raw FTP over node:net (RFC 959 s4.2 replies), so it measures the server, not a client library. A worker
 * turned away at connect waits 50 ms before knocking again, so the attacker does not eat the CPU the
 * server needs on a small machine. Only run it against a server you run yourself (loopback).
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { percentile } from '../bench/lib/stats.js';
import { dialogue } from '../test/support/reply-dialogue.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string' },
      user: { type: 'string' },
      password: { type: 'string' },
      guesses: { type: 'string', default: '500' },
      workers: { type: 'string', default: '20' },
      duration: { type: 'string', default: '30' },
      'attack-from': { type: 'string', default: '127.0.0.1' },
      from: { type: 'string', default: '127.0.0.2' },
      json: { type: 'boolean', default: false },
    },
  });
  const port = Number(values.port);
  const guessBudget = Number(values.guesses);
  const workers = Number(values.workers);
  const durationMs = Number(values.duration) * 1000;
  if (!Number.isInteger(port) || port < 1 || port > 65535 || !values.user || values.password === undefined
      || !Number.isInteger(guessBudget) || guessBudget < 1 || !Number.isInteger(workers) || workers < 1 || workers > 1000 || !(durationMs > 0)) {
    process.stderr.write('usage: node --import tsx scripts/brute-force.ts --port N --user U --password P [--guesses 500] [--workers 20] [--duration 30] [--attack-from 127.0.0.1] [--from 127.0.0.2] [--json]\n');
    process.exitCode = 2;
    return;
  }
  const host = values.host!;
  const user = values.user;
  const started = performance.now();
  const over = () => guesses >= guessBudget || performance.now() - started > durationMs;
  let guesses = 0;
  let connections = 0;
  const answers = { rejected530: 0, refusedAtPass421: 0, refusedAtConnect421: 0 };

  const worker = async (): Promise<void> => {
    while (!over()) {
      connections++;
      const codes = await dialogue({ host, port, localAddress: values['attack-from']!, timeoutMs: 30_000 }, (code) => {
        if (code === 220 || code === 530) return over() ? undefined : `USER ${user}`;
        if (code === 331) { guesses++; return `PASS wrong-guess-${guesses}`; }
        return undefined;
      });
      answers.rejected530 += codes.filter((c) => c === 530).length;
      if (codes[0] === 421) { answers.refusedAtConnect421++; await delay(50); } else if (codes.at(-1) === 421) answers.refusedAtPass421++;
    }
  };
  const attack = Promise.all(Array.from({ length: workers }, worker));

  // Legitimate logins, one after the other, while the attack runs (the first once every worker has sent a
  // guess, or the server has started refusing them).
  const logins: number[] = [];
  const failures: string[] = [];
  while (!over()) {
    const refusing = answers.refusedAtPass421 + answers.refusedAtConnect421 > 0;
    if (guesses < Math.min(workers, guessBudget) && !refusing) { await delay(10); continue; }
    const t0 = performance.now();
    const codes = await dialogue({ host, port, localAddress: values.from!, timeoutMs: 60_000 }, (code) => {
      if (code === 220) return `USER ${user}`;
      if (code === 331) return `PASS ${values.password}`;
      return undefined;
    });
    if (codes.at(-1) === 230) logins.push(performance.now() - t0);
    else failures.push(codes.join(' '));
  }
  await attack;
  const sorted = [...logins].sort((a, b) => a - b);
  const summary = {
    guesses, connections, ...answers, attackMs: Math.round(performance.now() - started),
    legitimateLogins: logins.length, legitimateP50Ms: Math.round(percentile(sorted, 50) ?? NaN), legitimateMaxMs: Math.round(sorted.at(-1) ?? NaN),
    legitimateFailures: failures,
  };
  if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else {
    process.stdout.write(`attack: ${guesses} wrong passwords over ${connections} connections in ${summary.attackMs} ms; `
      + `${answers.rejected530} answered 530, ${answers.refusedAtPass421} refused 421 at PASS, ${answers.refusedAtConnect421} refused 421 at connect\n`);
    process.stdout.write(`legitimate logins meanwhile: ${logins.length}, p50 ${summary.legitimateP50Ms} ms, max ${summary.legitimateMaxMs} ms`
      + `${failures.length ? `, ${failures.length} failed (${failures.slice(0, 3).join('; ')})` : ''}\n`);
  }
  if (logins.length === 0 || failures.length > 0) process.exitCode = 1;
}

await main();
