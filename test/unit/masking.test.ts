import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommandLine } from '../../src/protocol/commands.js';
import { MASK, isSecretVerb, maskCommand, maskCommandLine, maskOutgoingCommand } from '../../src/protocol/masking.js';

test('isSecretVerb: PASS and ACCT in any case, nothing else', () => {
  for (const v of ['PASS', 'pass', 'Acct']) assert.equal(isSecretVerb(v), true, v);
  for (const v of ['PASV', 'PASSX', 'USER', 'ACC', '']) assert.equal(isSecretVerb(v), false, v);
});

test('a line the client sends: the verb upper-cased and the mask, whatever follows it', () => {
  const masked: Array<[string, string]> = [
    ['PASS hunter2', 'PASS ****'], ['pass hunter2', 'PASS ****'], ['ACCT acc pw', 'ACCT ****'],
    ['PASS', 'PASS ****'], ['PASS ', 'PASS ****'],          // an empty password is not told apart either
    ['PASS\thunter2', 'PASS ****'], ['PASS-hunter2', 'PASS ****'], ['  PASS hunter2', 'PASS ****'],
  ];
  for (const [line, shown] of masked) assert.equal(maskOutgoingCommand(line), shown, JSON.stringify(line));
  for (const line of ['USER bob', 'retr a', 'RETR PASS', 'PASSWORD x', 'PASV', '']) assert.equal(maskOutgoingCommand(line), line);
});

test('a line in the server log: verb and separator as written, a bare verb kept', () => {
  assert.equal(maskCommandLine('pass hunter2'), 'pass ****');
  assert.equal(maskCommandLine('PASS\thunter2'), 'PASS\t****');
  assert.equal(maskCommandLine('  ACCT x'), 'ACCT ****');
  assert.equal(maskCommandLine('PASS-hunter2'), 'PASS ****');
  assert.equal(maskCommandLine('PASS '), 'PASS ');
  assert.equal(maskCommandLine('retr a'), 'retr a');
});

test('a parsed command: the secret never reaches the masked text, in any of the three shapes', () => {
  for (const line of ['PASS s3cret', 'pass s3cret', 'ACCT s3cret', 'pass\ts3cret', 'PASS  s3cret ']) {
    const cmd = parseCommandLine(line)!;
    for (const shown of [maskCommand(cmd), maskOutgoingCommand(line), maskCommandLine(line)]) {
      assert.ok(!shown.includes('s3cret') && shown.endsWith(MASK), `${JSON.stringify(line)} -> ${JSON.stringify(shown)}`);
    }
  }
});
