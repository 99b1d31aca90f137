import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { api } from './api/client';
import { consumePairingLink } from './api/pairing';
import { redirectRefusedTokens, useNavigation } from './stores/navigation';
import { useSession } from './stores/session';
import { App } from './app';
import './styles.css';

// The pairing fragment is consumed before anything routes or renders, so the
// token is out of the address bar (and this history entry) at once.
const pairedToken = consumePairingLink(window.location, window.history);

redirectRefusedTokens(api, (failure) => useSession.getState().tokenRefused(failure));
window.addEventListener('hashchange', () => useNavigation.getState().syncFromHash(window.location.hash));
useNavigation.getState().syncFromHash(window.location.hash);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

// After the first render: the screen paints at once, the session fills in.
void (pairedToken ? useSession.getState().pair(pairedToken) : useSession.getState().load());
