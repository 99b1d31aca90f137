import { useState, type FormEvent, type ReactElement } from 'react';
import { SCOPES, type Scope } from '../../../../shared/api';
import { Dialog } from '../../components/dialog';
import { Field, Result } from '../../components/ui';
import { useApiTokens } from '../../stores/api-tokens';
import { useConnection } from '../../stores/connection';
import { NEW_TOKEN_DEFAULTS, TOKEN_EXPIRY } from '../../lib/token-defaults';

const SCOPE_WORDS: Record<Scope, string> = {
  admin: 'Admin: everything, including remote access and tokens',
  operate: 'Operate: use the workstation, but not manage access',
  read: 'Read: look, never change anything',
  inference: 'Inference: the OpenAI API (/v1) only, for an OpenAI client',
};


export function CreateTokenDialog({ onClose }: { onClose: () => void }): ReactElement {
  const [name, setName] = useState('');
  const [scope, setScope] = useState<Scope>(NEW_TOKEN_DEFAULTS.scope);
  const [expires, setExpires] = useState<string>(NEW_TOKEN_DEFAULTS.expires);
  const [note, setNote] = useState('');
  const create = useApiTokens((s) => s.create);
  const creating = useApiTokens((s) => s.creating);
  const error = useApiTokens((s) => s.createError);
  const clearError = useApiTokens((s) => s.clearCreateError);
  const noteTokenCreated = useConnection((s) => s.noteTokenCreated);

  const close = () => {
    clearError();
    onClose();
  };
  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    const ok = await create({ name: name.trim(), scope, expires: expires || null, note: note.trim() || undefined });
    if (ok) {
      noteTokenCreated();
      onClose();
    }
  };

  return (
    <Dialog
      title="Create an API token"
      description={<p>For a device or a script. You will see the token once, right after this.</p>}
      onClose={close}
      footer={
        <>
          <button type="button" className="button" onClick={close}>
            Cancel
          </button>
          <button type="submit" form="create-token-form" className="button button--primary" disabled={creating || name.trim() === ''}>
            {creating ? 'Creating…' : 'Create token'}
          </button>
        </>
      }
    >
      <form id="create-token-form" className="stack" onSubmit={onSubmit}>
        <Field label="Name" hint="Letters, digits, dot, dash and underscore, e.g. laptop or ci-runner.">
          {({ id, describedBy }) => (
            <input id={id} className="input" value={name} onChange={(e) => setName(e.target.value)} required maxLength={64} autoComplete="off" spellCheck={false} aria-describedby={describedBy} data-autofocus />
          )}
        </Field>
        <Field label="Scope">
          {({ id }) => (
            <select id={id} className="input" value={scope} onChange={(e) => setScope(e.target.value as Scope)}>
              {SCOPES.map((s) => (
                <option key={s} value={s}>
                  {SCOPE_WORDS[s]}
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
        <Field label="Note (optional)" hint="What the token is for, so you recognise it later.">
          {({ id, describedBy }) => <input id={id} className="input" value={note} onChange={(e) => setNote(e.target.value)} maxLength={200} autoComplete="off" aria-describedby={describedBy} />}
        </Field>
        {error ? <Result tone="danger" title={error.title} detail={error.detail} /> : null}
      </form>
    </Dialog>
  );
}
