import { useId, useState, type FormEvent, type ReactElement } from 'react';
import { SCOPES, type Scope } from '../../../../shared/api';
import { Badge, Card, Field, LiveRegion, Result, Spinner, Switch } from '../../components/ui';
import { CopyField } from '../../components/copy-field';
import { Icon } from '../../components/icons';
import { useConnection } from '../../stores/connection';
import { useApiTokens } from '../../stores/api-tokens';

function DeviceTokenOffer({ urgent }: { urgent: boolean }): ReactElement {
  const [name, setName] = useState('laptop');
  const [scope, setScope] = useState<Scope>('admin');
  const create = useApiTokens((s) => s.create);
  const creating = useApiTokens((s) => s.creating);
  const error = useApiTokens((s) => s.createError);
  const noteTokenCreated = useConnection((s) => s.noteTokenCreated);

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    if (await create({ name: name.trim(), scope, note: 'Created for a device from the Connection screen' })) noteTokenCreated();
  };

  return (
    <div className={urgent ? 'offer offer--warn' : 'offer'}>
      <p className="offer__title">
        <Icon name="key" size={18} /> No API token exists yet, so no other device can sign in.
      </p>
      <p className="muted">Create one for a device: you get it once, with a pairing link and a QR code for the device to open.</p>
      <form className="inline-form" onSubmit={onSubmit}>
        <Field label="Device name">{({ id }) => <input id={id} className="input" value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" required maxLength={64} />}</Field>
        <Field label="Scope">
          {({ id }) => (
            <select id={id} className="input" value={scope} onChange={(e) => setScope(e.target.value as Scope)}>
              {SCOPES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          )}
        </Field>
        <button type="submit" className="button button--primary" disabled={creating || name.trim() === ''}>
          Create token for a device
        </button>
      </form>
      {error ? <Result tone="danger" title={error.title} detail={error.detail} /> : null}
    </div>
  );
}

export function RemoteAccessCard(): ReactElement {
  const info = useConnection((s) => s.info);
  const error = useConnection((s) => s.error);
  const pending = useConnection((s) => s.remotePending);
  const remoteError = useConnection((s) => s.remoteError);
  const setRemoteAccess = useConnection((s) => s.setRemoteAccess);
  const warningId = useId();

  if (!info) {
    return (
      <Card title="Remote access">
        {error ? <Result tone="danger" title={error.title} detail={error.detail} /> : <Spinner label="Loading remote access" />}
      </Card>
    );
  }
  const { remote } = info;
  const port = remote.port;

  return (
    <Card
      title="Remote access"
      description="Let your laptop or another machine on the network use this workstation."
      actions={<Badge tone={remote.enabled ? 'warn' : 'neutral'}>{remote.enabled ? 'On' : 'Off'}</Badge>}
    >
      <div className="stack">
        <div className="switch-row">
          <div>
            <p className="switch-row__label" id={`${warningId}-label`}>
              Allow other devices on the network
            </p>
            <p className="muted">{remote.enabled ? 'Other devices can reach Halo Forge. Each one needs an API token.' : 'Only this computer can reach Halo Forge.'}</p>
          </div>
          {pending ? <Spinner label="Changing remote access" /> : null}
          <Switch checked={remote.enabled} disabled={remote.fixed || pending} label="Allow other devices on the network" describedBy={warningId} onChange={(on) => void setRemoteAccess(on)} />
        </div>

        {remote.fixed ? (
          <p className="callout callout--info">
            <Icon name="warning" size={18} />
            <span>Remote access is set by the command line (--host {remote.interface}); the switch cannot change it. Restart Halo Forge without --host to use it.</span>
          </p>
        ) : null}

        <p id={warningId} className={`callout ${remote.enabled ? 'callout--info' : 'callout--warn'}`}>
          <Icon name="shield" size={18} />
          <span>
            {remote.enabled ? 'While this is on, ' : 'Turning this on '}
            {remote.enabled ? `port ${port} is open on ${remote.interface === 'all' ? 'every network interface' : remote.interface}` : `opens port ${port} on every network interface of this computer`}: anyone on the same network can reach the sign-in, and every request from another device
            must carry an API token. Traffic is plain HTTP, so use it on networks you trust, or put a TLS proxy in front.
          </span>
        </p>

        {info.authMode === 'off' && remote.enabled ? (
          <p className="callout callout--danger">
            <Icon name="warning" size={18} />
            <span>Authentication is off: anyone who can reach this workstation can operate it.</span>
          </p>
        ) : null}

        {remote.enabled && remote.urls.length > 0 ? (
          <div className="stack stack--tight" data-testid="remote-urls">
            <p className="field__label">Addresses for other devices</p>
            {remote.urls.map((url) => (
              <CopyField key={url} label={`Address ${url}`} value={url} />
            ))}
          </div>
        ) : null}

        {info.tokenCount === 0 && !info.envToken ? <DeviceTokenOffer urgent={remote.enabled} /> : null}

        <LiveRegion>{remoteError ? <Result tone="danger" title={remoteError.title} detail={remoteError.detail} /> : null}</LiveRegion>
      </div>
    </Card>
  );
}
