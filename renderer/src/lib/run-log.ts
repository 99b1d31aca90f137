/**
 * The live log a browser keeps of one run. A training job can print for
 * days; the page keeps only the newest lines (and characters), says how many
 * it let go, and the full, redacted log stays in the run folder.
 */
export interface RunLog {
  lines: string[];
  /** The unfinished last line: output arrives in chunks that split lines anywhere. */
  partial: string;
  /** Lines let go from the top to stay under the cap. */
  dropped: number;
  /** Characters held in `lines`, kept so a cap check costs nothing. */
  chars: number;
}

export interface LogCap {
  lines: number;
  chars: number;
}

export const LOG_CAP: LogCap = { lines: 5_000, chars: 2_000_000 };
/** A longer line is broken, as a terminal wraps it: one huge line must not hold the whole cap. */
export const MAX_LINE_CHARS = 4_000;

export const EMPTY_LOG: RunLog = { lines: [], partial: '', dropped: 0, chars: 0 };

// Colour and cursor codes (tqdm, rich, accelerate) are noise in a <pre>.
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]/g;

/** What a terminal would show of one line: a progress bar redrawn with \r shows its last state. */
function asShown(line: string): string {
  const text = line.replace(ANSI, '');
  const cr = text.lastIndexOf('\r', text.length - 2);
  return (cr < 0 ? text : text.slice(cr + 1)).replace(/\r$/, '');
}

function wrap(line: string, into: string[]): void {
  if (line.length <= MAX_LINE_CHARS) into.push(line);
  else for (let at = 0; at < line.length; at += MAX_LINE_CHARS) into.push(line.slice(at, at + MAX_LINE_CHARS));
}

/** Adds a chunk of output; returns a new RunLog (the old one is left as it was, for React). */
export function appendLog(log: RunLog, chunk: string, cap: LogCap = LOG_CAP): RunLog {
  if (chunk === '') return log;
  const parts = (log.partial + chunk).split('\n');
  let partial = parts.pop() ?? '';
  const added: string[] = [];
  for (const part of parts) wrap(asShown(part), added);
  // An endless line without a newline is wrapped too, or it would grow without bound.
  while (partial.length > MAX_LINE_CHARS) {
    added.push(asShown(partial.slice(0, MAX_LINE_CHARS)));
    partial = partial.slice(MAX_LINE_CHARS);
  }
  let lines = added.length > 0 ? log.lines.concat(added) : log.lines;
  let chars = log.chars;
  for (const line of added) chars += line.length;
  let drop = 0;
  while (drop < lines.length && (lines.length - drop > cap.lines || chars > cap.chars)) {
    chars -= lines[drop]!.length;
    drop += 1;
  }
  if (drop > 0) lines = lines.slice(drop);
  return { lines, partial, dropped: log.dropped + drop, chars };
}

/** The lines to show, the unfinished one included. */
export function visibleLines(log: RunLog): string[] {
  return log.partial === '' ? log.lines : [...log.lines, asShown(log.partial)];
}
