import type { MetricSource } from '../../../shared/runs.js';

/**
 * Metrics from a job's own output, with no change to its script: JSON object
 * lines with a `step` or `epoch`, the dict lines Hugging Face Trainer prints
 * (Python literal syntax: `{'loss': 2.31, 'learning_rate': 5e-05,
 * 'epoch': 0.1}`), and the lines of a `metrics.jsonl` the job writes itself.
 * Pure: a line in, a reading or null out. Anything malformed is null, never
 * an exception: a job's odd output must not stop the run.
 */

export interface MetricReading {
  step: number | null;
  epoch: number | null;
  values: Record<string, number>;
}

const MAX_LINE = 16 * 1024;
const MAX_FIELDS = 64;
const MAX_KEY = 100;

/** A line of the job's stdout or stderr; `trainer` for a Python dict, `stdout` for JSON. */
export function parseOutputLine(line: string): { source: MetricSource; reading: MetricReading } | null {
  // A progress bar redraws with \r on the same line; what follows the last one is what a terminal shows.
  const text = line.slice(line.lastIndexOf('\r') + 1).trim();
  if (text.length > MAX_LINE || !text.startsWith('{') || !text.endsWith('}')) return null;
  const json = parseJsonObject(text);
  if (json) {
    const reading = readingOf(json);
    return reading && (reading.step !== null || reading.epoch !== null) ? { source: 'stdout', reading } : null;
  }
  const dict = parsePythonDict(text);
  if (!dict) return null;
  const reading = readingOf(dict);
  return reading && (reading.step !== null || reading.epoch !== null) ? { source: 'trainer', reading } : null;
}

/** A line of the metrics.jsonl the job writes into its run folder: any JSON object with a number in it. */
export function parseMetricsFileLine(line: string): MetricReading | null {
  const text = line.trim();
  if (!text || text.length > MAX_LINE) return null;
  const json = parseJsonObject(text);
  return json ? readingOf(json) : null;
}

function parseJsonObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function readingOf(object: Record<string, unknown>): MetricReading | null {
  const values: Record<string, number> = {};
  let step: number | null = null;
  let epoch: number | null = null;
  let count = 0;
  for (const [key, value] of Object.entries(object)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || key.length === 0 || key.length > MAX_KEY) continue;
    if (key === 'step' || key === 'global_step') step ??= value;
    else if (key === 'epoch') epoch = value;
    else if (count < MAX_FIELDS && key !== '__proto__') {
      values[key] = value;
      count++;
    }
  }
  if (step === null && epoch === null && count === 0) return null;
  return { step, epoch, values };
}

type PyValue = number | string | boolean | null | PyValue[] | { [key: string]: PyValue };

/**
 * A Python dict literal as `repr()` writes it: quoted keys, numbers
 * (including `nan`, `inf`), strings, True/False/None, nested lists, tuples and
 * dicts. Not eval: only these forms; anything else makes the line not a dict.
 */
export function parsePythonDict(text: string): Record<string, PyValue> | null {
  const parser = new PyParser(text);
  try {
    const value = parser.value();
    parser.space();
    if (!parser.done() || value === null || typeof value !== 'object' || Array.isArray(value)) return null;
    return value;
  } catch {
    return null;
  }
}

class PyParser {
  private i = 0;
  private depth = 0;

  constructor(private readonly s: string) {}

  done(): boolean {
    return this.i >= this.s.length;
  }

  space(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i]!)) this.i++;
  }

  value(): PyValue {
    this.space();
    const c = this.s[this.i];
    if (c === '{') return this.dict();
    if (c === '[' || c === '(') return this.list(c === '[' ? ']' : ')');
    if (c === "'" || c === '"') return this.string();
    return this.word();
  }

  private enter(): void {
    if (++this.depth > 16) throw new Error('too deep');
  }

  private dict(): { [key: string]: PyValue } {
    this.enter();
    this.i++;
    const out: { [key: string]: PyValue } = Object.create(null);
    this.space();
    while (this.s[this.i] !== '}') {
      const key = this.value();
      this.space();
      if (this.s[this.i++] !== ':') throw new Error('expected :');
      const value = this.value();
      if (typeof key === 'string' || typeof key === 'number') out[String(key)] = value;
      this.space();
      if (this.s[this.i] === ',') {
        this.i++;
        this.space();
      } else if (this.s[this.i] !== '}') throw new Error('expected , or }');
    }
    this.i++;
    this.depth--;
    return out;
  }

  private list(close: string): PyValue[] {
    this.enter();
    this.i++;
    const out: PyValue[] = [];
    this.space();
    while (this.s[this.i] !== close) {
      out.push(this.value());
      this.space();
      if (this.s[this.i] === ',') {
        this.i++;
        this.space();
      } else if (this.s[this.i] !== close) throw new Error(`expected , or ${close}`);
    }
    this.i++;
    this.depth--;
    return out;
  }

  private string(): string {
    const quote = this.s[this.i++];
    let out = '';
    while (this.i < this.s.length) {
      const c = this.s[this.i++]!;
      if (c === quote) return out;
      if (c === '\\') {
        const next = this.s[this.i++];
        if (next === undefined) break;
        out += next === 'n' ? '\n' : next === 't' ? '\t' : next;
      } else out += c;
    }
    throw new Error('unterminated string');
  }

  private word(): PyValue {
    // numpy 2 writes np.float64(0.5), torch tensor(0.5): the number inside is the value.
    const call = /^[A-Za-z_][\w.]{0,40}\(/.exec(this.s.slice(this.i, this.i + 48));
    if (call && !/^(?:True|False|None)\b/.test(call[0])) {
      this.enter();
      this.i += call[0].length;
      const inner = this.value();
      this.space();
      if (this.s[this.i++] !== ')') throw new Error('expected )');
      this.depth--;
      return inner;
    }
    const match = /^(?:-?(?:inf|nan)|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|True|False|None)/.exec(this.s.slice(this.i, this.i + 64));
    if (!match) throw new Error('unexpected value');
    this.i += match[0].length;
    const w = match[0];
    if (w === 'True') return true;
    if (w === 'False') return false;
    if (w === 'None') return null;
    if (w.endsWith('inf')) return w.startsWith('-') ? -Infinity : Infinity;
    if (w.endsWith('nan')) return NaN;
    return Number(w);
  }
}
