import { useId, useRef, useState, type FormEvent, type ReactElement } from 'react';
import { SCOPES, type Scope } from '../../../../shared/api';
import { Badge, Card, Field, LiveRegion, Result, Spinner, Switch } from '../../components/ui';
import { ConfirmDialog } from '../../components/dialog';
import { isOffline, useSession } from '../../stores/session';
import { CopyField } from '../../components/copy-field';
import { Icon } from '../../components/icons';
import { useConnection } from '../../stores/connection';
import { useApiTokens } from '../../stores/api-tokens';
import { NEW_TOKEN_DEFAULTS, TOKEN_EXPIRY } from '../../lib/token-defaults';

function DeviceTokenOffer({ urgent }: { urgent: boolean }): ReactElement {
  const [name, setName] = useState('laptop');
  const [scope, setScope] = useState<Scope>(NEW_TOKEN_DEFAULTS.scope);
  const [expires, setExpires] = useState<string>(NEW_TOKEN_DEFAULTS.expires);
  const create = useApiTokens((s) => s.create);
  const creating = useApiTokens((s) => s.creating);
  const error = useApiTokens((s) => s.createError);
  const noteTokenCreated = useConnection((s) => s.noteTokenCreated);

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    if (await create({ name: name.trim(), scope, expires: expires || null, note: 'Created for a device from the Connection screen' })) noteTokenCreated();
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
        <Field label="Expires">
          {({ id }) => (
            <select id={id} className="input" value={expires} onChange={(e) => setExpires(e.target.value)}>
              {TOKEN_EXPIRY.map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
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
  const local = useSession((s) => s.session?.local ?? false);
  const proxied = useSession((s) => s.session?.proxied ?? false);
  const offline = useSession(isOffline);
  const [confirmingOff, setConfirmingOff] = useState(false);
  const switchRef = useRef<HTMLDivElement>(null);
  const warningId = useId();
  const toggle = async (on: boolean) => {
    if (pending) return;
    await setRemoteAccess(on);
    // Focus stays where the user is: on the switch, also after a confirmation dialog closed.
    switchRef.current?.querySelector<HTMLElement>('[role="switch"]')?.focus();
  };
  const onSwitch = (on: boolean) => {
    // From another device, "off" may cut this very connection: ask first.
    if (!on && !local) setConfirmingOff(true);
    else void toggle(on);
  };

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
        {proxied ? (
          <p className="callout callout--info" data-testid="proxied-note">
            <Icon name="globe" size={18} />
            <span>
              <strong>This browser is a remote client, connected through a proxy on the workstation</strong> ({location.host}). The switch below governs direct connections from the network; your proxy reaches Halo
              Forge whether it is on or off.
            </span>
          </p>
        ) : null}
        <div className="switch-row" ref={switchRef}>
          <div>
            <p className="switch-row__label" id={`${warningId}-label`}>
              Allow other devices on the network
            </p>
            <p className="muted">{remote.enabled ? 'Other devices can reach Halo Forge. Each one needs an API token.' : proxied ? 'Only this computer and the proxy on it can reach Halo Forge.' : 'Only this computer can reach Halo Forge.'}</p>
          </div>
          {pending ? <Spinner label="Changing remote access" /> : null}
          {/* Not disabled while pending: a disabled button drops keyboard focus to <body>. */}
          <Switch checked={remote.enabled} disabled={remote.fixed || offline} busy={pending} label="Allow other devices on the network" describedBy={warningId} onChange={onSwitch} />
        </div>

        {/* Right under the switch: with remote access on and no token, this is the next step (above the fold at 1280×800). */}
        {info.tokenCount === 0 && !info.envToken ? <DeviceTokenOffer urgent={remote.enabled} /> : null}

        {remote.fixed ? (
          <p className="callout callout--info">
            <Icon name="warning" size={18} />
            <span>Remote access is set by the command line (--host {remote.interface}); the switch cannot change it. Restart Halo Forge without --host to use it.</span>
          </p>
        ) : null}

        {/* The warning tone belongs to "on": that is the exposed state. */}
        <p id={warningId} className={`callout ${remote.enabled ? 'callout--warn' : 'callout--info'}`}>
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

        {remote.enabled && remote.addresses.length > 0 ? (
          <div className="stack stack--tight" data-testid="remote-urls">
            <p className="field__label">Addresses for other devices</p>
            {remote.addresses.map((a) => (
              <div key={a.url} className="stack stack--tight" data-kind={a.kind}>
                <span className="field__hint">{a.label}</span>
                <CopyField label={`Address ${a.url}`} value={a.url} />
              </div>
            ))}
          </div>
        ) : null}


        <LiveRegion>{remoteError ? <Result tone="danger" title={remoteError.title} detail={remoteError.detail} /> : null}</LiveRegion>
      </div>
      {confirmingOff ? (
        <ConfirmDialog
          title="Turn off remote access?"
          confirmLabel="Turn off"
          busy={pending}
          onCancel={() => setConfirmingOff(false)}
          onConfirm={async () => {
            await toggle(false);
            setConfirmingOff(false);
          }}
        >
          {proxied ? (
            <p>Devices that connect directly over the network lose access. This browser comes through the proxy on the workstation and keeps its connection.</p>
          ) : (
            <p>
              <strong>This browser is on another device:</strong> turning remote access off cuts its own connection, and only the workstation itself (or its tray icon) can turn it back on.
            </p>
          )}
        </ConfirmDialog>
      ) : null}
    </Card>
  );
}
