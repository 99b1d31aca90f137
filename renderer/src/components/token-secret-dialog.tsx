import { lazy, Suspense, useState, type ReactElement } from 'react';
import type { TokenCreated } from '../../../shared/api';
import { useConnection } from '../stores/connection';
import { isLoopbackHost } from '../lib/format';
import { CopyField } from './copy-field';
import { Dialog } from './dialog';
import { Icon } from './icons';

const QrCode = lazy(() => import('./qr-code'));

/** Where another device reaches this workstation: the remote URLs, else the address this page was opened at. */
function pairingBases(remoteUrls: string[]): string[] {
  const here = `${location.origin}/`;
  const bases = isLoopbackHost(location.hostname) ? [...remoteUrls] : [here, ...remoteUrls.filter((u) => u !== here)];
  return bases.length > 0 ? bases : [here];
}

/**
 * The copy-once dialog: the secret exists in the page only while this is
 * open; closing it drops the secret from the store and from the DOM.
 */
export function TokenSecretDialog({ created, onClose }: { created: TokenCreated; onClose: () => void }): ReactElement {
  const remoteUrls = useConnection((s) => s.info?.remote.urls) ?? [];
  const bases = pairingBases(remoteUrls);
  const [base, setBase] = useState(bases[0]!);
  const link = `${base}#token=${created.token}`;
  const reachableElsewhere = !isLoopbackHost(new URL(base).hostname);

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
              <select className="input" aria-label="Address the other device uses" value={base} onChange={(e) => setBase(e.target.value)}>
                {bases.map((b) => (
                  <option key={b} value={b}>
                    {b}
                  </option>
                ))}
              </select>
            ) : null}
            <CopyField label="Pairing link" value={link} />
            <p className="field__hint">
              Open it on the other device, or scan the code. The dashboard there stores the token and removes it from the address bar at once.
              {reachableElsewhere ? null : ' This address only works on this computer: turn on remote access for a link another device can open.'}
            </p>
          </div>
        </div>
        <figure className="qr-frame">
          <Suspense fallback={<div className="qr-placeholder" aria-hidden="true" />}>
            <QrCode value={link} label={`QR code of the pairing link for “${created.name}”`} />
          </Suspense>
          <figcaption>Scan with the other device</figcaption>
        </figure>
      </div>
    </Dialog>
  );
}
