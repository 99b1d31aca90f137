import { useEffect, type ReactElement } from 'react';
import { Badge, ScreenHeader } from '../components/ui';
import { useConnection } from '../stores/connection';
import { useHuggingFace } from '../stores/huggingface';
import { useMachine } from '../stores/machine';
import { authState, useSession, type AuthState } from '../stores/session';
import { hfAccessSummary, type Tone } from '../lib/huggingface';
import type { Route } from '../stores/navigation';
import { ConnectionLine } from './overview/connection-line';
import { GpuPanel } from './overview/gpu-panel';
import { MachinePanel } from './overview/machine-panel';
import { ModelsPanel, RuntimesPanel } from './overview/models-panel';
import { Panel } from './overview/panel';

export const AUTH_WORDS: Record<AuthState, { tone: Tone; label: string }> = {
  checking: { tone: 'neutral', label: 'Checking…' },
  'not-needed': { tone: 'ok', label: 'Not needed' },
  'token-stored': { tone: 'ok', label: 'Token stored' },
  'token-needed': { tone: 'warn', label: 'Token needed' },
  'token-refused': { tone: 'danger', label: 'Token refused' },
  unreachable: { tone: 'danger', label: 'Server unreachable' },
  failed: { tone: 'danger', label: 'Check failed' },
};

function AccessPanel(): ReactElement {
  const state = useSession(authState);
  const tokenName = useSession((s) => s.session?.token?.name);
  const tokenScope = useSession((s) => s.session?.token?.scope);
  const hfStatus = useHuggingFace((s) => s.status);
  const hfError = useHuggingFace((s) => s.error);
  const words = AUTH_WORDS[state];
  const hf = hfError && !hfStatus ? { tone: 'neutral' as const, label: 'Unknown' } : hfAccessSummary(hfStatus);
  const who =
    state === 'token-stored'
      ? `Signed in with “${tokenName}” (${tokenScope} scope)`
      : state === 'not-needed'
        ? 'This computer uses the dashboard without a token'
        : state === 'token-needed'
          ? 'Paste an API token on the Connection screen'
          : state === 'token-refused'
            ? 'The stored token no longer works'
            : undefined;
  return (
    <Panel icon="shield" title="Access" link={{ href: '#/connection', text: 'Connection' }} testId="overview-access">
      <p className="panel__line">
        <span data-testid="overview-auth">
          <Badge tone={words.tone}>{words.label}</Badge>
        </span>{' '}
        {who ? <span className="panel__muted">{who}</span> : null}
      </p>
      <p className="panel__line">
        <span className="panel__muted">Hugging Face</span>{' '}
        <span data-testid="overview-hf">
          <Badge tone={hf.tone}>{hf.label}</Badge>
        </span>{' '}
        <a href="#/huggingface" className="panel__inline-link">
          Manage
        </a>
      </p>
    </Panel>
  );
}

function NextSteps(): ReactElement | null {
  const hf = useHuggingFace((s) => s.status);
  const remote = useConnection((s) => s.info?.remote);
  const tokenCount = useConnection((s) => s.info?.tokenCount);
  const steps: { text: string; route: Route; action: string }[] = [];
  if (hf && !hf.present) steps.push({ text: 'Connect Hugging Face so the workstation can download gated and private models.', route: 'huggingface', action: 'Connect' });
  if (hf?.present && !hf.verified) steps.push({ text: 'The Hugging Face token is not verified. Check it before you download.', route: 'huggingface', action: 'Review' });
  if (remote && !remote.enabled) steps.push({ text: 'Reach this workstation from your laptop: turn on remote access and pair the device.', route: 'connection', action: 'Set up' });
  if (remote?.enabled && tokenCount === 0) steps.push({ text: 'Remote access is on but no API token exists, so no device can sign in yet.', route: 'connection', action: 'Create one' });
  if (steps.length === 0) return null;
  return (
    <section className="card" aria-labelledby="next-steps">
      <h2 id="next-steps" className="card__title">
        Next steps
      </h2>
      <ul className="steps">
        {steps.map((step) => (
          <li key={step.text} className="steps__item">
            <span>{step.text}</span>
            <a className="button button--small" href={`#/${step.route}`}>
              {step.action}
            </a>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function OverviewScreen(): ReactElement {
  const ready = useSession((s) => s.phase === 'ready' && !(s.session?.authRequired && !s.session.token) && !s.refused);
  const loadConnection = useConnection((s) => s.load);
  const loadHf = useHuggingFace((s) => s.load);
  const follow = useMachine((s) => s.follow);
  const snapshot = useMachine((s) => s.snapshot);
  const live = useMachine((s) => s.live);
  const error = useMachine((s) => s.error);
  useEffect(() => {
    if (!ready) return;
    // None of these blocks the first paint; the Hub is never asked from here.
    void loadConnection();
    void loadHf();
    // The server samples the machine only while this stream is open.
    return follow();
  }, [ready, loadConnection, loadHf, follow]);

  return (
    <>
      <ScreenHeader title="Overview" lead={snapshot ? `${snapshot.host.hostname}, live: its GPUs, memory, models and who can reach it.` : 'Your workstation, live: its GPUs, memory, models and who can reach it.'} />
      <ConnectionLine connection={snapshot?.connection ?? null} live={live} />
      {error && live !== 'live' ? <p className="overview__error" role="status">{error.detail ?? error.title}</p> : null}
      <div className="stats" data-testid="overview-facts" data-sampled-at={snapshot?.sampledAt ?? ''}>
        <GpuPanel report={snapshot?.gpus ?? null} />
        <MachinePanel host={snapshot?.host ?? null} />
        <ModelsPanel models={snapshot?.models ?? null} />
        <RuntimesPanel runtimes={snapshot?.runtimes ?? null} />
        <AccessPanel />
      </div>
      <NextSteps />
    </>
  );
}
