// What `halo-forge models` prints for people: tables, sizes, progress lines
// and failures with what fixes them. Pure functions, so a test can table them.
import type { HubModelSummary, LocalModelList, PullInfo } from '../../../shared/models.js';

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 1536 → "1.5 KiB"; whole bytes below a KiB. */
export function formatBytes(n: number): string {
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0)} ${UNITS[unit]}`;
}

/** 75 → "1m15s"; 3725 → "1h02m". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** One plain progress line, for logs and pipes: "org/name: 12.0 MiB / 48.0 MiB (25%), 3.0 MiB/s, 12s left". */
export function progressLine(pull: PullInfo): string {
  const done = pull.files.filter((f) => f.state === 'done').length;
  const percent = pull.bytesTotal > 0 ? Math.floor((pull.bytesDone / pull.bytesTotal) * 100) : 0;
  const parts = [`${formatBytes(pull.bytesDone)} / ${formatBytes(pull.bytesTotal)} (${percent}%)`, `${done}/${pull.files.length} files`];
  if (pull.state === 'downloading') {
    parts.push(`${formatBytes(pull.rate)}/s`);
    if (pull.etaSeconds !== null) parts.push(`${formatDuration(pull.etaSeconds)} left`);
  }
  return `${pull.repo}: ${pull.state} ${parts.join(', ')}`;
}

/** Why a pull did not end ready, and what to do about it, in lines a person reads. */
export function pullFailure(pull: PullInfo): string {
  if (pull.state === 'cancelled') return `The pull of ${pull.repo} was cancelled.`;
  if (!pull.error) return `The pull of ${pull.repo} ended ${pull.state}.`;
  const action = pull.error.action;
  const fix = action ? `\n  ${action.label}${action.url ? `: ${action.url}` : ''}` : '';
  return `${pull.error.message} (${pull.error.code})${fix}`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]! + 2))).join('').trimEnd()).join('\n') + '\n';
}

const gatedWords = (gated: HubModelSummary['gated']) => (gated === false ? '-' : gated === 'manual' ? 'gated (manual)' : 'gated');

export function searchTable(models: HubModelSummary[]): string {
  return table([
    ['MODEL', 'DOWNLOADS', 'LIKES', 'ACCESS', 'UPDATED'],
    ...models.map((m) => [m.id, m.downloads === null ? '-' : String(m.downloads), m.likes === null ? '-' : String(m.likes), m.private ? 'private' : gatedWords(m.gated), m.updatedAt?.slice(0, 10) ?? '-']),
  ]);
}

/** Names a revision the way people do: its refs, else the first 8 characters of its commit. */
export function revisionName(revision: { commit: string; refs: string[] }): string {
  return revision.refs.length > 0 ? revision.refs.join(',') : revision.commit.slice(0, 8);
}

export function localTable(list: LocalModelList): string {
  const rows = [
    ['MODEL', 'SIZE', 'REVISIONS', 'FILES', 'PULLED'],
    ...list.models.map((m) => [
      m.kind === 'model' ? m.id : `${m.kind}:${m.id}`,
      formatBytes(m.size),
      m.revisions.map(revisionName).join(' ') || '-',
      String(new Set(m.revisions.flatMap((r) => r.files.map((f) => f.path))).size),
      m.incomplete ? 'incomplete' : (m.lastPulled?.slice(0, 16).replace('T', ' ') ?? 'by another tool'),
    ]),
  ];
  const free = list.freeBytes === null ? '' : `, ${formatBytes(list.freeBytes)} free`;
  return `${table(rows)}\nCache: ${list.cacheDir}${free}\n`;
}
