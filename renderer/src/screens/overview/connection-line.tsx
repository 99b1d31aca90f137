import type { ReactElement } from 'react';
import type { ConnectionFacts } from '../../../../shared/machine';
import type { MachineLive } from '../../stores/machine';

const AUTH_MODE_WORDS: Record<ConnectionFacts['authMode'], string> = {
  auto: 'tokens for remote clients',
  on: 'tokens for everyone',
  off: 'no tokens',
};

const LIVE_WORDS: Record<MachineLive, string> = { off: 'Paused', connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…' };

/** Where the workstation listens, who may reach it, and its version: once, in one line. */
export function ConnectionLine({ connection, live }: { connection: ConnectionFacts | null; live: MachineLive }): ReactElement {
  return (
    <p className="conn-line" data-testid="overview-connection">
      <span className={`conn-line__live conn-line__live--${live}`} data-testid="overview-live">
        <span className="conn-line__dot" aria-hidden="true" />
        {LIVE_WORDS[live]}
      </span>
      {connection ? (
        <>
          <span>
            Listening on <code>{connection.bind}</code>
          </span>
          <span>Remote access {connection.remote ? 'on' : 'off'}</span>
          <span>Auth: {AUTH_MODE_WORDS[connection.authMode]}</span>
          <span>Halo Forge {connection.version}</span>
        </>
      ) : null}
    </p>
  );
}
