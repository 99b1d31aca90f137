import type { ReactElement } from 'react';
import { useEffect } from 'react';
import { Badge, Card, ScreenHeader } from '../components/ui';
import { Icon } from '../components/icons';
import { ROUTE_TITLES, useNavigation } from '../stores/navigation';
import { adminNeed, canAdminister, useSession } from '../stores/session';
import { useConnection } from '../stores/connection';
import { ApiTokenCard } from './connection/api-token-card';
import { RemoteAccessCard } from './connection/remote-access-card';
import { RecentActivityCard } from './connection/recent-activity-card';

function InterruptionNote(): ReactElement | null {
  const interruption = useNavigation((s) => s.interruption);
  if (!interruption) return null;
  const back = interruption.from === 'connection' ? null : ROUTE_TITLES[interruption.from];
  return (
    <div className="callout callout--warn callout--banner" role="alert" data-testid="interruption-note">
      <Icon name="warning" />
      <div>
        <p className="callout__title">
          {interruption.reason.title}
          {interruption.doing ? ` while ${interruption.doing}` : ''}
        </p>
        <p>{interruption.reason.detail}</p>
        {back ? <p className="muted">Save a working token below and you will go back to {back}.</p> : null}
      </div>
    </div>
  );
}

/** What a browser that may not administer sees instead of the switch: why, in the words of its own situation. */
function RemoteAccessLocked(): ReactElement {
  const why = useSession(adminNeed);
  const proxied = useSession((s) => s.session?.proxied ?? false);
  const local = useSession((s) => s.session?.local ?? false);
  return (
    <Card title="Remote access" description="Turning remote access on and off, and creating tokens for devices." >
      <div className="stack" data-testid="remote-locked">
        {local ? null : (
          <p className="status-line">
            <Badge tone="info">Remote client</Badge> {proxied ? `This browser reaches the workstation through a proxy on it (${location.host}).` : `This browser reaches the workstation over the network (${location.host}).`}
          </p>
        )}
        {why ? <p className="muted">{why}</p> : null}
      </div>
    </Card>
  );
}

export function ConnectionScreen(): ReactElement {
  const admin = useSession(canAdminister);
  const loadConnection = useConnection((s) => s.load);
  useEffect(() => {
    if (admin) void loadConnection();
  }, [admin, loadConnection]);

  return (
    <>
      <ScreenHeader title="Connection" lead="How this dashboard reaches the workstation, and which other devices may." />
      <InterruptionNote />
      <div className={admin ? 'columns' : 'columns columns--single'}>
        {/* The main actions first: the switch and the device-token offer sit above the fold at 1280×800. */}
        <div className="stack stack--loose">
          {admin ? <RemoteAccessCard /> : null}
          <ApiTokenCard />
          {admin ? null : <RemoteAccessLocked />}
        </div>
        {admin ? <RecentActivityCard /> : null}
      </div>
    </>
  );
}
