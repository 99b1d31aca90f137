import { useEffect, useRef, type ReactElement } from 'react';
import { Badge, Spinner } from '../../components/ui';
import { formatTokensPerSecond, formatTtft } from '../../lib/chat-stream';
import type { Turn } from '../../stores/playground';

function AnswerStats({ turn }: { turn: Turn }): ReactElement | null {
  const m = turn.metrics;
  if (turn.state === 'waiting') return <p className="turn__stats"><Spinner /> Waiting for the first token…</p>;
  if (!m || m.tokens === 0) return turn.state === 'stopped' ? <p className="turn__stats"><Badge tone="neutral">Stopped</Badge></p> : null;
  return (
    <p className="turn__stats" data-testid="answer-stats">
      {turn.state === 'stopped' ? <Badge tone="neutral">Stopped</Badge> : null}
      {turn.state === 'failed' ? <Badge tone="danger">Broke off</Badge> : null}
      <span>
        First token <strong data-testid="ttft">{formatTtft(m.ttftMs)}</strong>
      </span>
      <span>
        <strong data-testid="tokens-per-second">{formatTokensPerSecond(m.tokensPerSecond)}</strong>
      </span>
      <span>
        {m.tokens} token{m.tokens === 1 ? '' : 's'}
      </span>
    </p>
  );
}

export function Transcript({ turns }: { turns: Turn[] }): ReactElement {
  const end = useRef<HTMLDivElement>(null);
  const last = turns[turns.length - 1];
  useEffect(() => {
    end.current?.scrollIntoView?.({ block: 'nearest' });
  }, [turns.length, last?.content]);
  return (
    <div className="transcript" aria-label="Conversation" role="log" aria-live="off">
      {turns.map((turn) => (
        <div key={turn.id} className={`turn turn--${turn.role}`} data-testid={turn.role === 'assistant' ? 'answer' : 'question'} data-state={turn.state}>
          <p className="turn__who">{turn.role === 'user' ? 'You' : turn.model}</p>
          {turn.content ? <div className="turn__text">{turn.content}</div> : turn.state === 'failed' ? <p className="turn__text muted">No answer.</p> : null}
          {turn.role === 'assistant' ? <AnswerStats turn={turn} /> : null}
        </div>
      ))}
      <div ref={end} />
    </div>
  );
}
