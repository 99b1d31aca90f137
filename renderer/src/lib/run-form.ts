import { RUN_RESERVED_ENV } from '../../../shared/runs';

/**
 * The start-a-run form: one command line typed as in a terminal, turned into
 * argv here (the backend runs argv with no shell, so pipes and globs mean
 * nothing), and KEY=VALUE lines for the environment. Checked before anything
 * is sent, so a pasted token never leaves the page.
 */

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** Splits like a POSIX shell does for words: 'single', "double" (with \" and \\), and \ outside quotes. */
export function parseCommandLine(text: string): Parsed<string[]> {
  const argv: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote === "'") {
      if (c === "'") quote = null;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\')) word += text[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      word += text[++i] === '\n' ? '' : text[i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) argv.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) return { ok: false, error: `A ${quote === '"' ? 'double' : 'single'} quote is not closed.` };
  if (inWord) argv.push(word);
  if (argv.length === 0) return { ok: false, error: 'Type the command to run, e.g. python train.py --epochs 3.' };
  return { ok: true, value: argv };
}

/** argv back into one line a person can read and paste into a shell. */
export function formatCommandLine(argv: readonly string[]): string {
  return argv.map((arg) => (arg !== '' && /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`)).join(' ');
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** A Hugging Face token, a Halo Forge API token, an org API key: the shapes a pasted secret has. */
const TOKEN_SHAPE = /(^|[^A-Za-z0-9])(hf_|hfk_|api_org_)[A-Za-z0-9]{8,}/;

export function looksLikeToken(text: string): boolean {
  return TOKEN_SHAPE.test(text);
}

/** KEY=VALUE, one a line; blank lines and # comments are skipped. Every problem is named with its line. */
export function parseEnvLines(text: string): Parsed<Record<string, string>> {
  const env: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    const name = eq < 0 ? line : line.slice(0, eq).trim();
    const where = `Line ${n + 1}`;
    if (eq < 0) return { ok: false, error: `${where}: “${clipped(name)}” has no “=”; write NAME=value.` };
    if (!ENV_NAME.test(name)) return { ok: false, error: `${where}: “${clipped(name)}” is not a valid variable name (letters, digits and _, not starting with a digit).` };
    if ((RUN_RESERVED_ENV as readonly string[]).includes(name) || name.startsWith('HALOFORGE_')) {
      return { ok: false, error: `${where}: ${name} is set by Halo Forge for every run${name === 'HF_TOKEN' || name === 'HUGGING_FACE_HUB_TOKEN' ? ' from the workstation’s Hugging Face credential' : ''}; it cannot be overridden.` };
    }
    const value = line.slice(eq + 1);
    if (looksLikeToken(value)) return { ok: false, error: `${where}: the value of ${name} looks like a token. It was not sent: the job gets HF_TOKEN from the workstation’s credential, and other secrets belong in the job’s own config, not in a run record.` };
    if (name in env) return { ok: false, error: `${where}: ${name} is set twice.` };
    env[name] = value;
  }
  return { ok: true, value: env };
}

function clipped(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** Run and recipe names: 1-64 letters, digits, ".", "_", "-", starting with a letter or digit (the backend's rule). */
export function nameProblem(name: string): string | null {
  if (name === '') return null;
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name) ? null : 'Use 1 to 64 letters, digits, dots, dashes and underscores, starting with a letter or digit.';
}
