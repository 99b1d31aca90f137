import { lazy, Suspense, useEffect, useState, type ReactElement } from 'react';
import type { PairingAddress, TokenCreated } from '../../../shared/api';
import { useConnection } from '../stores/connection';
import { canAdminister, useSession } from '../stores/session';
import { isLoopbackHost } from '../lib/format';
import { CopyField } from './copy-field';
import { Dialog } from './dialog';
import { Icon } from './icons';

const QrCode = lazy(() => import('./qr-code'));

/**
 * Where another device reaches this workstation: the backend's ranked
 * addresses (name first, then LAN...), led by the address this page was
 * opened at when that is not loopback (it is known to work); else loopback.
 */
export function pairingBases(addresses: PairingAddress[], here: string, hereIsLoopback: boolean): PairingAddress[] {
  const bases = hereIsLoopback ? [...addresses] : [{ url: here, kind: 'lan' as const, label: 'The address this page uses' }, ...addresses.filter((a) => a.url !== here)];
  return bases.length > 0 ? bases : [{ url: here, kind: 'lan', label: 'This computer only' }];
}

/** No QR code of a link no other device can open: the way to get one instead. */
function NoRemoteLink(): ReactElement {
  const admin = useSession(canAdminister);
  const fixed = useConnection((s) => s.info?.remote.fixed ?? false);
  const pending = useConnection((s) => s.remotePending);
  const setRemoteAccess = useConnection((s) => s.setRemoteAccess);
  return (
    <div className="offer" data-testid="pairing-no-qr">
      <p className="offer__title">
        <Icon name="globe" size={18} /> Remote access is off, so no other device can open a pairing link yet.
      </p>
      {admin && !fixed ? (
        <>
          <p className="muted">Turn it on and the link and its QR code appear here. The token above works already.</p>
          <button type="button" className="button" disabled={pending} onClick={() => void setRemoteAccess(true)}>
            {pending ? 'Turning on…' : 'Turn on remote access'}
          </button>
        </>
      ) : (
        <p className="muted">Remote access can be turned on from the Connection screen on the workstation.</p>
      )}
    </div>
  );
}

/**
 * The copy-once dialog: the secret exists in the page only while this is
 * open; closing it drops the secret from the store and from the DOM.
 */
export function TokenSecretDialog({ created, onClose }: { created: TokenCreated; onClose: () => void }): ReactElement {
  const addresses = useConnection((s) => s.info?.remote.addresses) ?? [];
  const bases = pairingBases(addresses, `${location.origin}/`, isLoopbackHost(location.hostname));
  const [chosen, setChosen] = useState<string | null>(null);
  // Remote access turned on from here: the best new address replaces the loopback one.
  const base = bases.find((b) => b.url === chosen) ?? bases[0]!;
  useEffect(() => {
    if (chosen !== null && !bases.some((b) => b.url === chosen)) setChosen(null);
  }, [bases, chosen]);
  const link = `${base.url}#token=${created.token}`;
  const reachableElsewhere = !isLoopbackHost(new URL(base.url).hostname);

  return (
    <Dialog
      title={`Token “${created.name}” created`}
      onClose={onClose}
      size="large"
      dismissible={false}
      description={
        <p className="callout callout--warn">
          <Icon name="warning" size={18} />
          <span>
            <strong>Copy it now: it will not be shown again.</strong> Halo Forge keeps only a hash of it.
          </span>
        </p>
      }
      footer={
        <button type="button" className="button button--primary" onClick={onClose}>
          Done, I have saved it
        </button>
      }
    >
      <div className="secret-layout">
        <div className="stack">
          <div className="field">
            <span className="field__label">API token ({created.scope} scope)</span>
            <CopyField label="API token" value={created.token} autoFocus testId="created-token-secret" />
          </div>
          <div className="field">
            <span className="field__label">Pairing link</span>
            {bases.length > 1 ? (
              <select className="input" aria-label="Address the other device uses" value={base.url} onChange={(e) => setChosen(e.target.value)} data-testid="pairing-address">
                {bases.map((b) => (
                  <option key={b.url} value={b.url}>
                    {b.label}: {b.url}
                  </option>
                ))}
              </select>
            ) : null}
            <CopyField label="Pairing link" value={link} />
            <p className="field__hint">
              {reachableElsewhere ? 'Open it on the other device, or scan the code. ' : 'This link only works on this computer. '}The dashboard that opens it stores the token and removes it from the address bar at once.
            </p>
          </div>
        </div>
        {reachableElsewhere ? (
          <figure className="qr-frame">
            <Suspense fallback={<div className="qr-placeholder" aria-hidden="true" />}>
              <QrCode value={link} label={`QR code of the pairing link for “${created.name}”`} />
            </Suspense>
            <figcaption>Scan with the other device</figcaption>
          </figure>
        ) : null}
      </div>
      {reachableElsewhere ? null : <NoRemoteLink />}
    </Dialog>
  );
}
