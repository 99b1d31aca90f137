import type { ReactElement } from 'react';
import type { TokenInfo } from '../../../../shared/api';
import { Badge } from '../../components/ui';
import { formatDateTime, isPast, relativeTime } from '../../lib/format';

function When({ iso, empty }: { iso: string | null; empty: string }): ReactElement {
  if (!iso) return <span className="muted">{empty}</span>;
  return (
    <time dateTime={iso} title={formatDateTime(iso)}>
      {relativeTime(iso)}
    </time>
  );
}

export function TokenTable({ tokens, currentToken, onRevoke }: { tokens: TokenInfo[]; currentToken: string | null; onRevoke: (name: string) => void }): ReactElement {
  return (
    <div className="table-wrap">
      <table className="table table--cards" aria-label="API tokens">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Scope</th>
            <th scope="col">Created</th>
            <th scope="col">Last used</th>
            <th scope="col">Last used from</th>
            <th scope="col">Expires</th>
            <th scope="col">Note</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {tokens.map((t) => (
            <tr key={t.name} data-testid={`token-row-${t.name}`}>
              <th scope="row" className="table__name">
                {t.name}
                {t.name === currentToken ? (
                  <span className="table__you">
                    <Badge tone="info">this browser</Badge>
                  </span>
                ) : null}
              </th>
              <td data-label="Scope">
                <Badge tone={t.scope === 'admin' ? 'warn' : 'neutral'}>{t.scope}</Badge>
              </td>
              <td data-label="Created">
                <When iso={t.created} empty="—" />
              </td>
              <td data-label="Last used">
                <When iso={t.lastUsed} empty="Never" />
              </td>
              <td data-label="Last used from" data-testid={`token-from-${t.name}`}>
                {t.lastUsedFrom ? <code>{t.lastUsedFrom}</code> : <span className="muted">—</span>}
              </td>
              <td data-label="Expires">{t.expires ? isPast(t.expires) ? <Badge tone="danger">Expired</Badge> : <When iso={t.expires} empty="Never" /> : <span className="muted">Never</span>}</td>
              <td className="table__note" data-label="Note">{t.note || <span className="muted">—</span>}</td>
              <td className="table__actions">
                <button type="button" className="button button--small button--ghost-danger" onClick={() => onRevoke(t.name)} aria-label={`Revoke ${t.name}`}>
                  Revoke
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
