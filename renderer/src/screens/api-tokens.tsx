import { useEffect, useState, type ReactElement } from 'react';
import { Card, EmptyState, Result, ScreenHeader, Spinner } from '../components/ui';
import { ConfirmDialog } from '../components/dialog';
import { Icon } from '../components/icons';
import { useApiTokens } from '../stores/api-tokens';
import { useConnection } from '../stores/connection';
import { adminNeed, canAdminister, useSession } from '../stores/session';
import { CreateTokenDialog } from './tokens/create-token-dialog';
import { TokenTable } from './tokens/token-table';

function RevokeDialog({ name, onClose }: { name: string; onClose: () => void }): ReactElement {
  const revoke = useApiTokens((s) => s.revoke);
  const revoking = useApiTokens((s) => s.revoking);
  const error = useApiTokens((s) => s.revokeError);
  const mine = useSession((s) => s.session?.token?.name === name);
  return (
    <ConfirmDialog
      title={`Revoke “${name}”?`}
      confirmLabel="Revoke token"
      busy={revoking === name}
      onCancel={onClose}
      onConfirm={async () => {
        if (await revoke(name)) onClose();
      }}
      error={error ? <Result tone="danger" title={error.title} detail={error.detail} /> : null}
    >
      <p>Every device and script using it loses access right away. This cannot be undone.</p>
      {mine ? <p className="callout callout--warn">This browser signs in with this token: you will have to paste another one.</p> : null}
    </ConfirmDialog>
  );
}

function TokenList({ onCreate }: { onCreate: () => void }): ReactElement {
  const tokens = useApiTokens((s) => s.tokens);
  const loaded = useApiTokens((s) => s.loaded);
  const error = useApiTokens((s) => s.error);
  const currentToken = useSession((s) => s.session?.token?.name ?? null);
  const [revoking, setRevoking] = useState<string | null>(null);

  if (!loaded) return <Spinner label="Loading API tokens" />;
  if (error && tokens.length === 0) return <Result tone="danger" title={error.title} detail={error.detail} />;
  if (tokens.length === 0) {
    return (
      <EmptyState icon="key" title="No API tokens yet">
        <p>A browser on the workstation itself needs none. Create one for each laptop, phone or script that should reach it over the network.</p>
        <button type="button" className="button button--primary" onClick={onCreate}>
          <Icon name="plus" size={16} /> Create token
        </button>
      </EmptyState>
    );
  }
  return (
    <>
      <TokenTable tokens={[...tokens].sort((a, b) => a.name.localeCompare(b.name))} currentToken={currentToken} onRevoke={setRevoking} />
      {revoking ? <RevokeDialog name={revoking} onClose={() => setRevoking(null)} /> : null}
    </>
  );
}

export function ApiTokensScreen(): ReactElement {
  const admin = useSession(canAdminister);
  const sessionReady = useSession((s) => s.phase === 'ready');
  const load = useApiTokens((s) => s.load);
  const envToken = useConnection((s) => s.info?.envToken ?? false);
  const why = useSession(adminNeed);
  const [creating, setCreating] = useState(false);

  useEffect(() => {
    if (admin) void load();
  }, [admin, load]);

  return (
    <>
      <ScreenHeader
        title="API tokens"
        lead="Tokens let other devices and scripts use this workstation. Each one is shown once, when it is created; the workstation keeps only a hash."
        actions={
          admin ? (
            <button type="button" className="button button--primary" onClick={() => setCreating(true)}>
              <Icon name="plus" size={16} /> Create token
            </button>
          ) : null
        }
      />
      {envToken ? (
        <p className="callout callout--warn callout--banner">
          <Icon name="warning" />
          <span>HALOFORGE_API_TOKEN is set on the workstation: the server accepts only that token and ignores this list until it is unset.</span>
        </p>
      ) : null}
      <Card title="Tokens">
        {admin ? (
          <TokenList onCreate={() => setCreating(true)} />
        ) : sessionReady ? (
          <EmptyState icon="shield" title="Needs an admin token">
            <p data-testid="tokens-locked">{why ?? 'Managing tokens needs a token with the admin scope.'}</p>
          </EmptyState>
        ) : (
          <Spinner label="Checking the connection" />
        )}
      </Card>
      {creating ? <CreateTokenDialog onClose={() => setCreating(false)} /> : null}
    </>
  );
}
