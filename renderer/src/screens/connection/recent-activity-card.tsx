import { useEffect, useState, type ReactElement } from 'react';
import { Badge, Card, EmptyState, Result, Spinner } from '../../components/ui';
import { entryKey, useActivity, type LiveState } from '../../stores/activity';
import { describeAuditEntry, formatDateTime, relativeTime } from '../../lib/format';

const LIVE_WORDS: Record<LiveState, { tone: 'ok' | 'neutral' | 'warn'; label: string }> = {
  live: { tone: 'ok', label: 'Live' },
  connecting: { tone: 'neutral', label: 'Connecting…' },
  reconnecting: { tone: 'warn', label: 'Reconnecting…' },
  off: { tone: 'neutral', label: 'Paused' },
};

function useNow(everyMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

export function RecentActivityCard(): ReactElement {
  const entries = useActivity((s) => s.entries);
  const loaded = useActivity((s) => s.loaded);
  const error = useActivity((s) => s.error);
  const live = useActivity((s) => s.live);
  const follow = useActivity((s) => s.follow);
  const load = useActivity((s) => s.load);
  const now = useNow(30_000);

  useEffect(() => {
    void load();
    return follow();
  }, [follow, load]);

  const words = LIVE_WORDS[live];
  return (
    <Card
      title="Recent activity"
      description="Sign-in failures by address, tokens created and revoked, remote access changes. New events appear as they happen."
      actions={
        <span data-testid="activity-live">
          <Badge tone={words.tone}>{words.label}</Badge>
        </span>
      }
    >
      {error ? <Result tone="danger" title={error.title} detail={error.detail} /> : null}
      {!loaded ? (
        <Spinner label="Loading recent activity" />
      ) : entries.length === 0 ? (
        <EmptyState icon="activity" title="Nothing has happened yet">
          Failed sign-ins and token changes will show up here.
        </EmptyState>
      ) : (
        <ol className="activity" aria-label="Recent activity" data-testid="activity-list">
          {entries.map((entry) => {
            const { tone, text } = describeAuditEntry(entry);
            return (
              <li key={entryKey(entry)} className="activity__item">
                <span className={`activity__dot activity__dot--${tone}`} aria-hidden="true" />
                <span className="activity__text">{text}</span>
                <time className="activity__time" dateTime={entry.time} title={formatDateTime(entry.time)}>
                  {relativeTime(entry.time, now)}
                </time>
              </li>
            );
          })}
        </ol>
      )}
    </Card>
  );
}
