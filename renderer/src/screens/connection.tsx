import type { ReactElement } from 'react';
import { useEffect } from 'react';
import { Card, ScreenHeader } from '../components/ui';
import { Icon } from '../components/icons';
import { ROUTE_TITLES, useNavigation } from '../stores/navigation';
import { canAdminister, useSession } from '../stores/session';
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
        <div className="stack stack--loose">
          <ApiTokenCard />
          {admin ? (
            <RemoteAccessCard />
          ) : (
            <Card title="Remote access" description="Turning remote access on and off, and creating tokens for devices, needs a local session or an admin token." />
          )}
        </div>
        {admin ? <RecentActivityCard /> : null}
      </div>
    </>
  );
}
