import type { AuditEntry } from '../../../shared/api';
import type { Tone } from './huggingface';

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function formatDateTime(iso: string | null): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateTime.format(date);
}

// Days up to two months: "in 30 days" says more about an expiry than "next month".
const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 24 * 3600],
  ['month', 60 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
];
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

/** "3 minutes ago", "in 6 days", "just now". */
export function relativeTime(iso: string, now = Date.now()): string {
  const then = new Date(iso).getTime();
  if (Number.isNaN(then)) return iso;
  const seconds = Math.round((then - now) / 1000);
  if (Math.abs(seconds) < 45) return 'just now';
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return relative.format(Math.round(seconds / (unit === 'month' ? 30 * 24 * 3600 : size)), unit);
  }
  return relative.format(Math.round(seconds / 60), 'minute');
}

export function isPast(iso: string | null, now = Date.now()): boolean {
  return iso !== null && new Date(iso).getTime() <= now;
}

/** One audit entry as a sentence a person reads in the activity list. */
export function describeAuditEntry(entry: AuditEntry): { tone: Tone; text: string } {
  const token = entry.token ? `“${entry.token}”` : '';
  const from = entry.address ? ` from ${entry.address}` : '';
  switch (entry.event) {
    case 'auth.failed':
      return { tone: 'danger', text: `Failed attempt${from}${entry.reason ? `: ${entry.reason}` : ''}${entry.token ? ` (token ${token})` : ''}` };
    case 'auth.throttled':
      return { tone: 'danger', text: `Blocked${from} after repeated failed attempts` };
    case 'token.created':
      return { tone: 'info', text: `Token ${token} created${entry.detail ? ` (${entry.detail})` : ''}` };
    case 'token.revoked':
      return { tone: 'warn', text: `Token ${token} revoked${entry.detail ? ` (${entry.detail})` : ''}` };
    case 'token.first_use':
      return { tone: 'neutral', text: `Token ${token} used${from} for the first time` };
    case 'remote.enabled':
      return { tone: 'warn', text: `Remote access turned on${entry.detail ? `: ${entry.detail}` : ''}` };
    case 'remote.disabled':
      return { tone: 'neutral', text: 'Remote access turned off' };
    case 'hf.saved':
      return { tone: 'info', text: `Hugging Face token saved${entry.detail ? ` (${entry.detail})` : ''}` };
    case 'hf.cleared':
      return { tone: 'neutral', text: 'Hugging Face token cleared' };
    default:
      return { tone: 'neutral', text: String((entry as AuditEntry).event) };
  }
}

export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
