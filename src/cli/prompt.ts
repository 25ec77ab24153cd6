/**
 * A password prompt on the terminal without echo (the password never appears on screen or in scrollback).
 * Raw mode on stdin; Enter ends, Backspace edits, Ctrl-C / Ctrl-D abandon.
 */
import { FtpUsageError } from '../errors.js';

export function promptHidden(question: string, out: NodeJS.WritableStream): Promise<string> {
  const input = process.stdin;
  return new Promise((resolve, reject) => {
    let answer = '';
    const wasRaw = input.isRaw;
    // Echo off before the prompt shows: a password typed (or pasted) right after it must not appear.
    input.setRawMode?.(true);
    out.write(question);
    input.resume();
    input.setEncoding('utf8');
    const done = (err?: Error) => {
      input.off('data', onData);
      input.setRawMode?.(wasRaw ?? false);
      input.pause();
      out.write('\n');
      if (err) reject(err); else resolve(answer);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') { done(); return; }
        if (ch === '\u0003' || ch === '\u0004') { done(new FtpUsageError('password prompt abandoned')); return; }
        if (ch === '\u007f' || ch === '\b') answer = answer.slice(0, -1);
        else answer += ch;
      }
    };
    input.on('data', onData);
  });
}
