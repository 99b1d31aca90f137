import { useLayoutEffect, useRef, useState, type ReactElement } from 'react';
import { visibleLines, type RunLog } from '../../lib/run-log';

/** Within this many pixels of the bottom counts as "at the bottom" (a fractional scroll never lands exactly on it). */
const STICKY_PX = 24;

/**
 * The live log. It follows new output while the reader is at the bottom;
 * scrolling up to read something stops that, and "Jump to latest" (or
 * scrolling back down) starts it again.
 */
export function LogView({ log, live }: { log: RunLog; live: boolean }): ReactElement {
  const box = useRef<HTMLPreElement>(null);
  const [following, setFollowing] = useState(true);
  const lines = visibleLines(log);

  useLayoutEffect(() => {
    const el = box.current;
    if (el && following) el.scrollTop = el.scrollHeight;
  }, [log, following]);

  const onScroll = () => {
    const el = box.current;
    if (!el) return;
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight <= STICKY_PX;
    if (atBottom !== following) setFollowing(atBottom);
  };

  return (
    <div className="run-log">
      {log.dropped > 0 ? (
        <p className="run-log__note">
          {log.dropped.toLocaleString()} earlier lines are not kept in this page; the whole log is in the run folder.
        </p>
      ) : null}
      <pre ref={box} className="run-log__text" data-testid="run-log" tabIndex={0} aria-label="Run log" onScroll={onScroll}>
        {lines.length === 0 ? <span className="muted">{live ? 'Waiting for output…' : 'No output.'}</span> : lines.join('\n')}
      </pre>
      {!following ? (
        <button
          type="button"
          className="button button--small run-log__jump"
          onClick={() => {
            setFollowing(true);
            const el = box.current;
            if (el) el.scrollTop = el.scrollHeight;
          }}
        >
          Jump to latest
        </button>
      ) : null}
    </div>
  );
}
