import { useEffect, type ReactElement, type ReactNode } from 'react';
import { Badge, ScreenHeader } from '../components/ui';
import { Icon, type IconName } from '../components/icons';
import { useConnection } from '../stores/connection';
import { useHuggingFace } from '../stores/huggingface';
import { authState, useSession, type AuthState } from '../stores/session';
import { hfAccessSummary, type Tone } from '../lib/huggingface';
import { isLoopbackHost } from '../lib/format';
import type { Route } from '../stores/navigation';

export const AUTH_WORDS: Record<AuthState, { tone: Tone; label: string }> = {
  checking: { tone: 'neutral', label: 'Checking…' },
  'not-needed': { tone: 'ok', label: 'Not needed' },
  'token-stored': { tone: 'ok', label: 'Token stored' },
  'token-needed': { tone: 'warn', label: 'Token needed' },
  'token-refused': { tone: 'danger', label: 'Token refused' },
  unreachable: { tone: 'danger', label: 'Server unreachable' },
  failed: { tone: 'danger', label: 'Check failed' },
};

function StatCard({ icon, label, children, detail, link, wide }: { icon: IconName; label: string; children: ReactNode; detail?: ReactNode; link?: { route: Route; text: string }; wide?: boolean }): ReactElement {
  return (
    <section className={wide ? 'stat stat--wide' : 'stat'} aria-label={label}>
      <div className="stat__head">
        <span className="stat__icon">
          <Icon name={icon} size={18} />
        </span>
        <h2 className="stat__label">{label}</h2>
      </div>
      <div className="stat__value">{children}</div>
      {detail ? <p className="stat__detail">{detail}</p> : null}
      {link ? (
        <a className="stat__link" href={`#/${link.route}`}>
          {link.text} <span aria-hidden="true">→</span>
        </a>
      ) : null}
    </section>
  );
}

function ModeCard(): ReactElement {
  const local = isLoopbackHost(location.hostname);
  const desktop = typeof window.haloForge !== 'undefined';
  return (
    <StatCard icon={local ? 'monitor' : 'globe'} label="Mode" detail={desktop ? 'In the desktop app' : local ? 'In a browser on the workstation' : 'In a browser on another device'}>
      <span className="stat__big">{local ? 'This computer' : 'Remote workstation'}</span>
    </StatCard>
  );
}

function OriginCard(): ReactElement {
  const version = useSession((s) => s.version);
  return (
    <StatCard icon="connection" label="Dashboard talks to" detail={version ? `Halo Forge ${version}` : 'Every request goes to this address'}>
      <code className="stat__mono" data-testid="overview-origin">
        {location.origin}
      </code>
    </StatCard>
  );
}

function AuthCard(): ReactElement {
  const state = useSession(authState);
  const tokenName = useSession((s) => s.session?.token?.name);
  const tokenScope = useSession((s) => s.session?.token?.scope);
  const words = AUTH_WORDS[state];
  const detail =
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
    <StatCard icon="shield" label="Authentication" detail={detail} link={{ route: 'connection', text: 'Connection' }}>
      <span data-testid="overview-auth">
        <Badge tone={words.tone}>{words.label}</Badge>
      </span>
    </StatCard>
  );
}

function HuggingFaceCard(): ReactElement {
  const status = useHuggingFace((s) => s.status);
  const error = useHuggingFace((s) => s.error);
  const summary = error && !status ? { tone: 'neutral' as const, label: 'Unknown' } : hfAccessSummary(status);
  return (
    <StatCard wide icon="huggingface" label="Hugging Face access" detail={error && !status ? error.detail : status?.present ? undefined : 'Needed for gated and private models'} link={{ route: 'huggingface', text: 'Manage' }}>
      <span data-testid="overview-hf">
        <Badge tone={summary.tone}>{summary.label}</Badge>
      </span>
    </StatCard>
  );
}

function RemoteCard(): ReactElement {
  const remote = useConnection((s) => s.info?.remote);
  return (
    <StatCard
      wide
      icon="globe"
      label="Remote access"
      detail={remote ? (remote.enabled ? remote.urls.join('  ·  ') || 'Listening on the network' : 'Only this computer can connect') : undefined}
      link={{ route: 'connection', text: remote?.enabled ? 'Devices and tokens' : 'Turn on' }}
    >
      <span data-testid="overview-remote">{remote ? <Badge tone={remote.enabled ? 'warn' : 'neutral'}>{remote.enabled ? 'On' : 'Off'}</Badge> : <Badge tone="neutral">Checking…</Badge>}</span>
    </StatCard>
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
  useEffect(() => {
    if (!ready) return;
    // Neither call blocks the first paint; the Hub is never asked from here.
    void loadConnection();
    void loadHf();
  }, [ready, loadConnection, loadHf]);

  return (
    <>
      <ScreenHeader title="Overview" lead="Your workstation at a glance: how this dashboard reaches it, who may use it, and what it can download." />
      <div className="stats">
        <ModeCard />
        <OriginCard />
        <AuthCard />
        <HuggingFaceCard />
        <RemoteCard />
      </div>
      <NextSteps />
    </>
  );
}
