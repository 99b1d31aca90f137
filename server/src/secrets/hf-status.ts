// What a person (or the dashboard) is told about the workstation's Hugging
// Face access: a pure function of where the token was found and what the Hub
// last said about it. It never sees a reason to include the token itself.
import type { HfStatus } from '../../../shared/api.js';
import type { HfCredential, HfCredentialSources } from './hf-credential.js';
import type { KeyringState } from './keyring.js';
import type { Verification } from './verification-cache.js';

export interface HfResolution {
  sources: HfCredentialSources;
  credential: HfCredential | null;
  keyring: KeyringState;
  /** The keyring's entry predates a clear or save that could not reach it, and could not be deleted yet. */
  keyringStale: boolean;
  /** Found while reading (a file tightened, a file unreadable...). */
  warnings: string[];
  /** Halo Forge saved a token in the keyring that is not known to be gone: one may be there even while the keyring cannot be asked. */
  keyringMayHold?: boolean;
}

export const WRITE_TOKEN_WARNING =
  'This token can write to Hugging Face repositories; a read token is enough to download models. Create one at https://huggingface.co/settings/tokens and save it instead.';

export const STALE_KEYRING_WARNING =
  'The system keyring did not answer, so the token saved there earlier could not be removed yet; Halo Forge ignores it and removes it as soon as the keyring answers.';

export function describeHfStatus(r: HfResolution, verdict: Verification | null, paths: { secretFile: string; hfCache: string }): HfStatus {
  const { credential, sources } = r;
  const verified = verdict?.outcome === 'verified';
  const warnings = [...r.warnings];
  if (r.keyringStale) warnings.push(STALE_KEYRING_WARNING);
  if (verified && verdict.canWrite) warnings.push(WRITE_TOKEN_WARNING);
  const stored = sources.keyring ? 'system keyring' : sources.file ? 'secret file' : null;
  if (credential?.source === 'env' && stored) {
    warnings.push(`A token saved in the ${stored} is not used while ${sources.env!.variable} is set in the environment: the environment value wins.`);
  }
  if (credential && verdict?.outcome === 'unverified') warnings.push('This token was saved without verification; verify it once the Hugging Face Hub can be reached.');
  if (credential && verdict?.outcome === 'rejected') warnings.push(`The Hugging Face Hub refused this token when it was last checked (${verdict.reason}); save a new one.`);
  return {
    present: credential !== null,
    source: credential?.source ?? 'none',
    verified,
    username: verified ? verdict.username : null,
    tokenName: verified ? verdict.tokenName : null,
    role: verified ? verdict.role : null,
    canClear: credential?.source === 'keyring' || credential?.source === 'file',
    keyring: { available: r.keyring.available, reason: keyringReason(r, paths.secretFile) },
    checkedAt: verdict?.checkedAt ?? null,
    message: message(r, verdict, paths),
    warnings,
    hfCacheAvailable: sources.hfCache !== null && sources.hfCache !== (sources.keyring ?? sources.file),
  };
}

/**
 * Why the keyring is not used, in plain words. With no Secret Service to
 * reach (a server over SSH) that is normal, and the person needs to hear
 * where the token is kept instead, not a D-Bus error (that goes to the log).
 */
function keyringReason({ keyring, keyringMayHold }: HfResolution, secretFile: string): string | null {
  if (!keyring.noService) return keyring.reason;
  if (keyringMayHold) {
    return `The system keyring cannot be reached from this session (no D-Bus session, as over SSH), so a token saved there from the desktop cannot be read now. A token saved now is kept in ${secretFile}, readable only by you.`;
  }
  return `No system keyring on this machine (normal on servers): the token is kept in ${secretFile}, readable only by you. Set HALOFORGE_KEYRING=off to stop looking for one.`;
}

function message({ credential, sources, keyring, keyringMayHold }: HfResolution, verdict: Verification | null, paths: { secretFile: string; hfCache: string }): string {
  // A machine with no Secret Service at all, where nothing was ever saved in one, simply has no token.
  if (!credential && !keyring.available && !keyring.absent && (!keyring.noService || keyringMayHold)) {
    // Not "no token": one may be saved there, and nothing was removed.
    return `The system keyring is not answering, so a Hugging Face token saved there cannot be read right now; nothing was removed, and it is used again once the keyring answers. Start or unlock the keyring, then check again.`;
  }
  if (!credential) {
    return `No Hugging Face token: open models download fine; gated and private ones need a read token.${sources.hfCache ? ' The Hugging Face tools have one saved on this machine: adopt it to use it.' : ''}`;
  }
  const where = {
    env: `Using ${sources.env?.variable} from the backend's environment; Halo Forge cannot clear it (remove it from the shell profile, service unit or launch agent that starts Halo Forge, then restart).`,
    keyring: 'Using the token saved in the system keyring.',
    file: `Using the token saved in ${paths.secretFile}.`,
    'hf-cache': `Using the token the Hugging Face tools saved in ${paths.hfCache} (read-only); adopt it to keep it with Halo Forge.`,
  }[credential.source];
  const checked = !verdict
    ? ' Not verified with the Hub yet.'
    : verdict.outcome === 'verified'
      ? ` Verified as ${verdict.username}${verdict.tokenName ? ` (token "${verdict.tokenName}", role ${verdict.role ?? 'unknown'})` : ''}.`
      : verdict.outcome === 'rejected'
        ? ` The Hub refused it when last checked: ${verdict.reason}.`
        : ' Saved without verification.';
  return where + checked;
}
