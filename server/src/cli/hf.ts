// `halo-forge hf ...`: works on the workstation's credential store directly,
// whether or not a server is running. The token is read from a hidden prompt
// or standard input, never from an argument (shell history, `ps`).
import type { HfStatus, ModelCheck } from '../../../shared/api.js';
import { AuditLog } from '../audit/audit-log.js';
import { auditLogPath } from '../paths.js';
import { createHfAccess, type HfAccess } from '../secrets/hf-access.js';
import { STALE_KEYRING_WARNING } from '../secrets/hf-status.js';
import { CliError } from './main.js';

const MAX_INPUT = 4096;

function openHfAccess(): HfAccess {
  // A CLI run ends in a moment: it verifies when asked (--verify), not in the background.
  return createHfAccess({ env: process.env, audit: new AuditLog(auditLogPath()), autoVerify: false });
}

export async function hfStatus(o: { json?: boolean; verify?: boolean }): Promise<void> {
  const hf = openHfAccess();
  const status = o.verify ? await hf.verify() : await hf.status();
  if (o.json) {
    process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
    return;
  }
  process.stdout.write(describeStatus(status));
}

export async function hfLogin(o: { verify: boolean; adopt?: boolean }): Promise<void> {
  const hf = openHfAccess();
  const status = o.adopt ? await hf.save({ adoptHfCache: true, verify: o.verify }, { via: 'cli' }) : await hf.save({ token: await readToken(), verify: o.verify }, { via: 'cli' });
  const where = status.source === 'keyring' ? 'in the system keyring' : status.source === 'file' ? 'in the secret file (no keyring available)' : '';
  const who = status.verified ? `; verified as ${status.username}${status.role ? ` (role ${status.role})` : ''}` : '; not verified';
  process.stdout.write(`Saved the Hugging Face token${where ? ` ${where}` : ''}${who}.\n`);
  if (status.source === 'file' && status.keyring.reason) process.stdout.write(`Keyring: ${status.keyring.reason}\n`);
  for (const w of status.warnings) process.stderr.write(`warning: ${w}\n`);
}

export async function hfLogout(): Promise<void> {
  const hf = openHfAccess();
  const before = await hf.status();
  const after = await hf.clear({ via: 'cli' });
  // A copy in a keyring that did not answer is ignored from now on and removed when it next does: that is worth saying.
  const deferred = after.warnings.includes(STALE_KEYRING_WARNING);
  process.stdout.write(before.canClear ? 'Removed the Hugging Face token Halo Forge stored.\n' : deferred ? '' : 'Halo Forge had no Hugging Face token stored.\n');
  if (after.source === 'hf-cache') process.stdout.write('The token the Hugging Face tools saved is theirs and still used; remove it with "hf auth logout".\n');
  if (before.canClear || deferred) for (const warning of after.warnings) process.stdout.write(`warning: ${warning}\n`);
}

export async function hfCheck(model: string, o: { json?: boolean }): Promise<void> {
  const check: ModelCheck = await openHfAccess().checkModel(model);
  if (o.json) process.stdout.write(`${JSON.stringify(check, null, 2)}\n`);
  else process.stdout.write(`${check.model}: ${check.access}${check.gated ? ` (gated: ${check.gated})` : ''}\n  ${check.url}\n`);
  if (check.access !== 'granted') throw new CliError(check.message);
  if (!o.json) process.stdout.write(`  ${check.message}\n`);
}

function describeStatus(s: HfStatus): string {
  const verified = s.verified ? `yes, as ${s.username}${s.tokenName ? ` (token "${s.tokenName}", role ${s.role ?? 'unknown'})` : ''}, checked ${s.checkedAt}` : 'no';
  const lines = [
    // An unavailable keyring may hold one: the message says which it is.
    `source:   ${s.source}${s.present || !s.keyring.available ? '' : ' (no token)'}`,
    ...(s.present ? [`verified: ${verified}`] : []),
    `keyring:  ${s.keyring.available ? 'available' : `unavailable: ${s.keyring.reason}`}`,
    s.message,
    ...(s.hfCacheAvailable ? ['The Hugging Face tools have a token saved: adopt it with "halo-forge hf login --adopt".'] : []),
    ...s.warnings.map((w) => `warning: ${w}`),
  ];
  return `${lines.join('\n')}\n`;
}

async function readToken(): Promise<string> {
  const token = process.stdin.isTTY ? await promptHidden('Hugging Face token (input is hidden): ') : await readFirstLine();
  if (!token) throw new CliError('No token given. Paste a Hugging Face token at the prompt, or pipe it in: halo-forge hf login < token.txt');
  return token;
}

/** One line from a pipe or file on standard input. */
function readFirstLine(): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    let text = '';
    const finish = () => {
      stdin.off('data', onData).off('end', finish).off('error', reject);
      stdin.pause();
      resolve((text.split(/\r?\n/)[0] ?? '').trim());
    };
    const onData = (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (text.includes('\n') || text.length > MAX_INPUT) finish();
    };
    stdin.on('data', onData).once('end', finish).once('error', reject);
  });
}

/** Reads a line from the terminal in raw mode, echoing nothing. */
function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const done = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || (ch === '\u0004' && value === '')) {
          done();
          return resolve(value.trim());
        }
        if (ch === '\u0003') {
          done();
          return reject(new CliError('Cancelled; nothing was saved.', 130));
        }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else if (ch >= ' ' && value.length < MAX_INPUT) value += ch;
      }
    };
    stdin.on('data', onData);
  });
}
