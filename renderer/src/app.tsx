import { lazy, Suspense, useEffect, useRef, type ComponentType, type ReactElement } from 'react';
import { Badge, Spinner } from './components/ui';
import { Icon, LogoMark, type IconName } from './components/icons';
import { TokenSecretDialog } from './components/token-secret-dialog';
import { SessionProblemBanner } from './components/session-problem-banner';
import { ROUTE_TITLES, ROUTES, useNavigation, type Route } from './stores/navigation';
import { authState, canAdminister, isOffline, useSession } from './stores/session';
import { useConnection } from './stores/connection';
import { useApiTokens } from './stores/api-tokens';
import { isLoopbackHost } from './lib/format';
import { desktopBridge } from './lib/desktop';
import { AUTH_WORDS, OverviewScreen } from './screens/overview';
import { ConnectionScreen } from './screens/connection';
import { HuggingFaceScreen } from './screens/huggingface';
import { ModelsScreen } from './screens/models';
import { ApiTokensScreen } from './screens/api-tokens';
import { RunsScreen } from './screens/runs';

// Loaded when first opened: the chat and its styles stay out of the first page load.
const PlaygroundScreen = lazy(() => import('./screens/playground').then((m) => ({ default: m.PlaygroundScreen })));

// Partial on purpose: a screen added to ROUTES shows in the nav (sidebar and phone tab bar) with a default icon and its title.
const ROUTE_ICONS: Partial<Record<Route, IconName>> = { overview: 'overview', models: 'models', playground: 'chat', runs: 'runs', connection: 'connection', huggingface: 'huggingface', tokens: 'tokens' };
/** The phone's tab bar has ~55 px per item: the few long titles get a short form there. */
const SHORT_TITLES: Partial<Record<Route, string>> = { playground: 'Chat', connection: 'Connect', huggingface: 'HF', tokens: 'Tokens' };

/** How often the dashboard asks whether the workstation is still there (and the token still good). */
const HEARTBEAT_MS = 4_000;
const SCREENS: Record<Route, ComponentType> = { overview: OverviewScreen, models: ModelsScreen, playground: PlaygroundScreen, runs: RunsScreen, connection: ConnectionScreen, huggingface: HuggingFaceScreen, tokens: ApiTokensScreen };

function Sidebar(): ReactElement {
  const route = useNavigation((s) => s.route);
  const version = useSession((s) => s.version);
  return (
    <aside className="sidebar">
      <div className="sidebar__inner">
        <div className="brand">
          <LogoMark />
          <span className="brand__name">Halo Forge</span>
        </div>
        <nav aria-label="Screens">
          <ul className="nav">
            {ROUTES.map((r) => (
              <li key={r}>
                <a className="nav__link" href={`#/${r}`} aria-current={r === route ? 'page' : undefined} aria-label={ROUTE_TITLES[r]}>
                  <Icon name={ROUTE_ICONS[r] ?? 'overview'} />
                  <span className="nav__title">{ROUTE_TITLES[r]}</span>
                  <span className="nav__short" aria-hidden="true">
                    {SHORT_TITLES[r] ?? ROUTE_TITLES[r]}
                  </span>
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <p className="sidebar__footer">{version ? `Halo Forge ${version}` : 'Halo Forge'}</p>
      </div>
    </aside>
  );
}

function StatusPill(): ReactElement {
  const state = useSession(authState);
  const tokenName = useSession((s) => s.session?.token?.name);
  const local = isLoopbackHost(location.hostname);
  const words = AUTH_WORDS[state];
  const auth = state === 'unreachable' ? 'unreachable' : state === 'token-stored' ? `token “${tokenName}”` : state === 'not-needed' ? 'no token needed' : words.label.toLowerCase();
  return (
    <a href="#/connection" className={`pill pill--${words.tone}`} data-testid="status-pill" aria-label={`${local ? 'This computer' : 'Remote workstation'}, ${auth}. Open Connection.`}>
      <span className="pill__dot" aria-hidden="true" />
      <span className="pill__where">{local ? 'This computer' : 'Remote workstation'}</span>
      <span className="pill__sep" aria-hidden="true" />
      <span className="pill__text">{auth}</span>
    </a>
  );
}

function RemotePill(): ReactElement | null {
  const enabled = useConnection((s) => s.info?.remote.enabled);
  const offline = useSession(isOffline);
  if (!enabled || offline) return null;
  return (
    <a href="#/connection" className="pill pill--warn" aria-label="Remote access on. Open Connection.">
      <Icon name="globe" size={16} />
      <span className="pill__text">
        Remote<span className="pill__where"> access</span> on
      </span>
    </a>
  );
}

function Banners(): ReactElement {
  const notice = useNavigation((s) => s.notice);
  const dismiss = useNavigation((s) => s.dismissNotice);
  return (
    <div className="banners" aria-live="polite">
      <SessionProblemBanner />
      {notice ? (
        <div className={`callout callout--${notice.tone} callout--banner`} data-testid="notice">
          <Icon name={notice.tone === 'ok' ? 'check' : 'warning'} />
          <p>{notice.text}</p>
          <button type="button" className="icon-button" aria-label="Dismiss" onClick={dismiss}>
            <Icon name="close" size={16} />
          </button>
        </div>
      ) : null}
    </div>
  );
}

function CreatedTokenDialog(): ReactElement | null {
  const created = useApiTokens((s) => s.created);
  const dismiss = useApiTokens((s) => s.dismissCreated);
  return created ? <TokenSecretDialog created={created} onClose={dismiss} /> : null;
}

/** Asks the workstation now and then whether it is still there, so no screen shows green after it went away. */
function useHeartbeat(): void {
  const heartbeat = useSession((s) => s.heartbeat);
  useEffect(() => {
    const beat = () => {
      if (document.visibilityState === 'visible') void heartbeat();
    };
    const timer = setInterval(beat, HEARTBEAT_MS);
    document.addEventListener('visibilitychange', beat);
    window.addEventListener('online', beat);
    return () => {
      clearInterval(timer);
      document.removeEventListener('visibilitychange', beat);
      window.removeEventListener('online', beat);
    };
  }, [heartbeat]);
}

/** Keeps the header's remote-access pill true, also when the tray or another window flips it. */
function useRemoteAccessWatch(): void {
  const admin = useSession(canAdminister);
  const readable = useSession((s) => s.phase === 'ready' && !s.refused && !(s.session?.authRequired && !s.session.token));
  const recoveries = useSession((s) => s.recoveries);
  const load = useConnection((s) => s.load);
  useEffect(() => {
    if (readable) void load();
  }, [readable, admin, recoveries, load]);
  useEffect(() => desktopBridge()?.onRemoteAccessChanged(() => void load()), [load]);
}

export function App(): ReactElement {
  const route = useNavigation((s) => s.route);
  const Screen = SCREENS[route];
  const first = useRef(true);
  const offline = useSession(isOffline);
  // Each return of the workstation remounts the screen, so it loads afresh instead of showing the errors of the outage.
  const recoveries = useSession((s) => s.recoveries);
  useRemoteAccessWatch();
  useHeartbeat();

  useEffect(() => {
    document.title = `${ROUTE_TITLES[route]} · Halo Forge`;
    // Keyboard and screen-reader users land on the new screen's heading, not at the old link.
    if (first.current) first.current = false;
    else document.getElementById('screen-title')?.focus();
  }, [route]);

  return (
    <>
      <a
        className="skip-link"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          document.getElementById('screen-title')?.focus();
        }}
      >
        Skip to content
      </a>
      <div className={offline ? 'app app--offline' : 'app'}>
        <Sidebar />
        <div className="main-column">
          <header className="topbar">
            <span className="topbar__logo">
              <LogoMark size={24} />
            </span>
            <p className="topbar__title">
              <span>Workstation</span>
              <span className="topbar__host" title={location.origin}>
                {location.host}
              </span>
            </p>
            <div className="topbar__status">
              <RemotePill />
              <StatusPill />
            </div>
          </header>
          <main id="main" className="screen">
            <Banners />
            <Suspense fallback={<Spinner label="Loading" />}>
              <Screen key={recoveries} />
            </Suspense>
          </main>
        </div>
      </div>
      <CreatedTokenDialog />
    </>
  );
}
