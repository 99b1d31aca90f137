import { useState, type FormEvent, type ReactElement } from 'react';
import { Badge, Card, Field, LiveRegion, Result, SecretInput, Spinner } from '../../components/ui';
import { authState, useSession } from '../../stores/session';

function CurrentToken(): ReactElement {
  const state = useSession(authState);
  const name = useSession((s) => s.session?.token?.name);
  const scope = useSession((s) => s.session?.token?.scope);
  const refused = useSession((s) => s.refused);
  const needed = useSession((s) => s.session?.authRequired ?? false);
  switch (state) {
    case 'token-stored':
      return (
        <p className="status-line">
          <Badge tone="ok">Token stored</Badge> This browser signs in as <strong>“{name}”</strong> ({scope} scope).
        </p>
      );
    case 'token-refused':
      return (
        <div className="stack stack--tight">
          <p className="status-line">
            <Badge tone="danger">Token refused</Badge> The token stored in this browser no longer works{refused ? ` (${refused.title.toLowerCase()})` : ''}. Paste a new one.
          </p>
          {needed ? null : <p className="muted">This computer does not need a token: clear the stored one to go on without it.</p>}
        </div>
      );
    case 'token-needed':
      return (
        <p className="status-line">
          <Badge tone="warn">Token needed</Badge> This workstation asks every device for an API token.
        </p>
      );
    case 'not-needed':
      return (
        <p className="status-line">
          <Badge tone="ok">Not needed</Badge> This computer uses the dashboard without a token. Paste one only to test it.
        </p>
      );
    case 'unreachable':
    case 'failed':
      return (
        <p className="status-line">
          <Badge tone="danger">{state === 'failed' ? 'Check failed' : 'Server unreachable'}</Badge> The workstation could not say whether this browser needs a token; the message at the top says why.
        </p>
      );
    default:
      return (
        <p className="status-line">
          <Badge tone="neutral">Checking…</Badge>
        </p>
      );
  }
}

export function ApiTokenCard(): ReactElement {
  const [token, setToken] = useState('');
  const check = useSession((s) => s.check);
  const hasStoredToken = useSession((s) => s.hasStoredToken);
  const test = useSession((s) => s.test);
  const save = useSession((s) => s.save);
  const clear = useSession((s) => s.clear);
  const testing = check.phase === 'testing';
  const empty = token.trim() === '';

  const onSave = async (event: FormEvent) => {
    event.preventDefault();
    if (await save(token)) setToken('');
  };

  return (
    <Card title="This browser’s API token" description="A Halo Forge API token (hfk_…) decides who may operate the workstation. It is kept in this browser and sent with every request.">
      <div className="stack">
        <CurrentToken />
        <form className="stack" onSubmit={onSave} aria-label="Test or save an API token">
          <Field label="API token" hint={<>Starts with hfk_. Create one under API tokens, or on the workstation with <code>halo-forge token create NAME</code>.</>}>
            {({ id, describedBy }) => <SecretInput id={id} describedBy={describedBy} value={token} onChange={setToken} placeholder="hfk_…" />}
          </Field>
          <div className="button-row">
            <button type="button" className="button" disabled={empty || testing} onClick={() => void test(token)}>
              Test
            </button>
            <button type="submit" className="button button--primary" disabled={empty || testing}>
              Save
            </button>
            {testing ? <Spinner label="Testing the token" /> : null}
            <span className="button-row__spacer" />
            {hasStoredToken ? (
              <button type="button" className="button button--ghost-danger" onClick={() => void clear()}>
                Clear token
              </button>
            ) : null}
          </div>
        </form>
        <LiveRegion>
          {check.result ? <Result tone={check.phase === 'passed' ? 'ok' : 'danger'} title={check.result.title} detail={check.result.detail} testId="token-check-result" /> : null}
        </LiveRegion>
      </div>
    </Card>
  );
}
