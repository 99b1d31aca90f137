import { useLayoutEffect, useRef, useState, type KeyboardEvent, type ReactElement, type TouchEvent, type WheelEvent } from 'react';
import { visibleLines, type RunLog } from '../../lib/run-log';

/** Within this many pixels of the bottom counts as "at the bottom" (a fractional scroll never lands exactly on it). */
const STICKY_PX = 24;

/** A scroll this soon after the reader touched the log (wheel, touch, key, scrollbar) is theirs. */
const INTENT_MS = 1_000;

/**
 * The live log. It follows new output while the reader is at the bottom;
 * scrolling up to read something stops that, and "Jump to latest" (or
 * scrolling back down) starts it again. Only the reader's own scrolling stops
 * it: a scroll the page causes (lines rewrapped on a turned phone, the log's
 * tail replayed after a reconnect) never does.
 */
export function LogView({ log, live }: { log: RunLog; live: boolean }): ReactElement {
  const box = useRef<HTMLPreElement>(null);
  const [following, setFollowing] = useState(true);
  const touchedAt = useRef(0);
  const touchY = useRef<number | null>(null);
  const lines = visibleLines(log);

  useLayoutEffect(() => {
    const el = box.current;
    // While the reader's hand is on the log (dragging the scrollbar), new output does not yank it down.
    if (el && following && Date.now() - touchedAt.current > INTENT_MS) el.scrollTop = el.scrollHeight;
  }, [log, following]);

  const touched = () => {
    touchedAt.current = Date.now();
  };
  // Reading back is decided on the gesture itself, before its scroll lands: output arriving
  // in between would otherwise scroll the log back down and undo it.
  const readBack = () => {
    touched();
    const el = box.current;
    if (el && el.scrollHeight > el.clientHeight) setFollowing(false);
  };
  const onScroll = () => {
    const el = box.current;
    if (!el) return;
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight <= STICKY_PX;
    if (atBottom && !following) setFollowing(true);
    else if (!atBottom && following && Date.now() - touchedAt.current < INTENT_MS) setFollowing(false);
    else if (!atBottom && following) el.scrollTop = el.scrollHeight;
  };
  const handlers = {
    onScroll,
    onWheel: (e: WheelEvent<HTMLPreElement>) => (e.deltaY < 0 ? readBack() : touched()),
    onKeyDown: (e: KeyboardEvent<HTMLPreElement>) => (['ArrowUp', 'PageUp', 'Home'].includes(e.key) ? readBack() : touched()),
    onTouchStart: (e: TouchEvent<HTMLPreElement>) => {
      touched();
      touchY.current = e.touches[0]?.clientY ?? null;
    },
    // A finger moving down the screen scrolls the log up.
    onTouchMove: (e: TouchEvent<HTMLPreElement>) => ((e.touches[0]?.clientY ?? 0) > (touchY.current ?? Infinity) ? readBack() : touched()),
    onPointerDown: touched,
  };

  return (
    <div className="run-log">
      {log.dropped > 0 ? (
        <p className="run-log__note">
          {log.dropped.toLocaleString()} earlier lines are not kept in this page; the whole log is in the run folder.
        </p>
      ) : null}
      <pre ref={box} className="run-log__text" data-testid="run-log" tabIndex={0} aria-label="Run log" {...handlers}>
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
