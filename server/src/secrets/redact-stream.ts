import { Transform } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { redactSecrets } from './redact.js';

/** A line longer than this is cut, at a character no token contains. */
const MAX_LINE = 64 * 1024;
const TOKEN_CHAR = /[A-Za-z0-9_-]/;

/**
 * Masks secrets in a child process's output (or anything else that is
 * logged) line by line. Chunks arrive split anywhere, so a token can straddle
 * two of them: text is held until the end of its line before it is redacted.
 */
export function redactingLines(): Transform {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  return new Transform({
    decodeStrings: true,
    transform(chunk: Buffer | string, _enc, done) {
      pending += typeof chunk === 'string' ? chunk : decoder.write(chunk);
      const end = pending.lastIndexOf('\n') + 1;
      let out = '';
      if (end > 0) {
        out = redactSecrets(pending.slice(0, end));
        pending = pending.slice(end);
      }
      while (pending.length > MAX_LINE) {
        let cut = MAX_LINE;
        while (cut > 0 && TOKEN_CHAR.test(pending[cut - 1]!)) cut--;
        // A 64 KiB run of token characters is not a line anyone reads; cut it anyway, masked whole.
        if (cut === 0) cut = MAX_LINE;
        out += redactSecrets(pending.slice(0, cut));
        pending = pending.slice(cut);
      }
      done(null, out || undefined);
    },
    flush(done) {
      pending += decoder.end();
      done(null, pending ? redactSecrets(pending) : undefined);
    },
  });
}
