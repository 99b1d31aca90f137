import type { AuthSession } from '../../../shared/api';

/** What this browser's token may do with runs, and, where it may not, why (shown beside the disabled control). */
export interface RunPermissions {
  watch: boolean;
  /** Start a saved recipe, stop a run. */
  operate: boolean;
  /** Start any command, save and delete recipes. */
  admin: boolean;
  operateWhy: string | null;
  adminWhy: string | null;
}

export function runPermissions(session: AuthSession | null): RunPermissions {
  const scope = !session ? null : session.token ? session.token.scope : session.authRequired ? null : 'admin';
  const operate = scope === 'admin' || scope === 'operate';
  const admin = scope === 'admin';
  return {
    // An inference token reaches only /v1: it sees no runs.
    watch: admin || operate || scope === 'read',
    operate,
    admin,
    operateWhy: operate ? null : 'Starting recipes and stopping runs needs a token with the operate or admin scope; this one can only watch.',
    adminWhy: admin ? null : 'Starting a command runs it as the workstation’s user, so it needs an admin token (or a browser on the workstation). Saved recipes can be started with operate.',
  };
}
