import type { Scope, TokenInfo } from '../../../shared/api.js';
import { AuditLog } from '../audit/audit-log.js';
import { TokenStore } from '../auth/token-store.js';
import { auditLogPath, tokenStorePath } from '../paths.js';

function openStore(): TokenStore {
  return new TokenStore(tokenStorePath()).load();
}

/** The change is saved; a full disk may cost its audit line, never the token that is shown only now. */
function appendAudit(entry: Parameters<AuditLog['append']>[0]): void {
  const failed = new AuditLog(auditLogPath()).append(entry);
  if (failed) process.stderr.write(`warning: could not write the audit log: ${failed.message}\n`);
}

function warnEnvToken(): void {
  if (process.env.HALOFORGE_API_TOKEN) {
    process.stderr.write('Note: HALOFORGE_API_TOKEN is set; a server started with it uses that token and ignores this store.\n');
  }
}

export async function tokenCreate(name: string, o: { scope: Scope; expires?: string; note?: string; json?: boolean }): Promise<void> {
  const store = openStore();
  for (const w of store.warnings) process.stderr.write(`warning: ${w}\n`);
  const { record, token } = await store.create({ name, scope: o.scope, expires: o.expires ?? null, note: o.note });
  appendAudit({ event: 'token.created', token: name, detail: `scope ${record.scope}, from the CLI` });
  warnEnvToken();
  if (o.json) {
    const { hash: _hash, ...info } = record;
    process.stdout.write(`${JSON.stringify({ ...info, token })}\n`);
    return;
  }
  process.stdout.write(
    [`name:  ${record.name}`, `scope: ${record.scope}`, ...(record.expires ? [`expires: ${record.expires}`] : []), "Save this token now — it won't be shown again:", `  ${token}`, ''].join('\n'),
  );
}

export async function tokenList(o: { json?: boolean }): Promise<void> {
  const store = openStore();
  for (const w of store.warnings) process.stderr.write(`warning: ${w}\n`);
  const tokens = store.list();
  if (o.json) {
    process.stdout.write(`${JSON.stringify(tokens, null, 2)}\n`);
    return;
  }
  if (tokens.length === 0) {
    process.stdout.write('No tokens. Create one with: halo-forge token create NAME\n');
    return;
  }
  process.stdout.write(table(tokens));
  warnEnvToken();
}

export async function tokenRevoke(name: string): Promise<void> {
  await openStore().revoke(name);
  appendAudit({ event: 'token.revoked', token: name, detail: 'from the CLI' });
  process.stdout.write(`Revoked ${name}.\n`);
}

function table(tokens: TokenInfo[]): string {
  const rows = [
    // The spec's columns first, in its order; scope and expiry before the free-text note.
    ['NAME', 'CREATED', 'LAST USED', 'SCOPE', 'EXPIRES', 'NOTE'],
    ...tokens.map((t) => [t.name, t.created, t.lastUsed ?? '-', t.scope, t.expires ?? 'never', t.note]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]! + 2))).join('').trimEnd()).join('\n') + '\n';
}
