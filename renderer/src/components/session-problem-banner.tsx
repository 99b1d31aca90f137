import { useEffect, useState, type ReactElement } from 'react';
import { useSession } from '../stores/session';
import { Icon } from './icons';

function useSecondsUntil(at: number | null): number | null {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (at === null) return;
    setNow(Date.now());
    const tick = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(tick);
  }, [at]);
  return at === null ? null : Math.max(0, Math.ceil((at - now) / 1_000));
}

/** Why the workstation could not be asked who this browser is, and when it will be asked again. */
export function SessionProblemBanner(): ReactElement | null {
  const phase = useSession((s) => s.phase);
  const problem = useSession((s) => s.problem);
  const retryAt = useSession((s) => s.retryAt);
  const load = useSession((s) => s.load);
  const seconds = useSecondsUntil(retryAt);
  if (phase !== 'unreachable' && phase !== 'failed') return null;
  return (
    <div className="callout callout--danger callout--banner" data-testid="session-problem">
      <Icon name="warning" />
      <div>
        <p className="callout__title">{problem?.title ?? 'Server unreachable'}</p>
        <p>{problem?.detail}</p>
        {/* Not read out every second: the live region announced the problem once already. */}
        {seconds === null ? null : <p data-testid="session-retry" aria-live="off">{seconds > 0 ? `Retrying in ${seconds} s.` : 'Retrying…'}</p>}
      </div>
      <button type="button" className="button button--small" onClick={() => void load()}>
        Try again
      </button>
    </div>
  );
}
