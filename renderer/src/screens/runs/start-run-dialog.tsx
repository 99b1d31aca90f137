import { useEffect, useState, type FormEvent, type ReactElement } from 'react';
import type { RunInfo, RunStartRequest } from '../../../../shared/runs';
import { Dialog } from '../../components/dialog';
import { Icon } from '../../components/icons';
import { Field, Result } from '../../components/ui';
import { looksLikeToken, nameProblem, parseCommandLine, parseEnvLines } from '../../lib/run-form';
import { useModels } from '../../stores/models';
import { useRuns } from '../../stores/runs';

/** Checks the form as typed; returns the request, or the problem in words. Nothing is sent while there is one. */
export function buildStartRequest(form: { name: string; command: string; cwd: string; env: string; model: string; gpu: boolean }): { request: RunStartRequest } | { problem: string } {
  const name = form.name.trim();
  const nameError = nameProblem(name);
  if (nameError) return { problem: `Name: ${nameError}` };
  const argv = parseCommandLine(form.command);
  if (!argv.ok) return { problem: `Command: ${argv.error}` };
  if (argv.value.some(looksLikeToken)) return { problem: 'Command: it holds something that looks like a token. It was not sent: a command line is visible to every process on the workstation. The job gets HF_TOKEN from the workstation’s credential.' };
  const env = parseEnvLines(form.env);
  if (!env.ok) return { problem: `Environment: ${env.error}` };
  const cwd = form.cwd.trim();
  if (cwd !== '' && !cwd.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(cwd)) return { problem: 'Working folder: give a full path (starting with /), or leave it empty for the home folder.' };
  const model = form.model.trim();
  const request: RunStartRequest = { command: argv.value };
  if (name) request.name = name;
  if (cwd) request.cwd = cwd;
  if (Object.keys(env.value).length > 0) request.env = env.value;
  if (model) request.model = model;
  if (form.gpu) request.gpu = true;
  return { request };
}

/** Models fully pulled into the shared cache: a half-pulled one is not offered. */
function usePulledModels(): string[] {
  const local = useModels((s) => s.local);
  const loadLocal = useModels((s) => s.loadLocal);
  useEffect(() => void loadLocal(), [loadLocal]);
  return (local?.models ?? []).filter((m) => m.kind === 'model' && !m.incomplete).map((m) => m.id);
}

export function StartRunDialog({ onClose, onStarted }: { onClose: () => void; onStarted: (run: RunInfo) => void }): ReactElement {
  const [form, setForm] = useState({ name: '', command: '', cwd: '', env: '', model: '', gpu: false });
  const models = usePulledModels();
  const [problem, setProblem] = useState<string | null>(null);
  const start = useRuns((s) => s.start);
  const busy = useRuns((s) => s.busy === 'start');
  const error = useRuns((s) => s.actionError);
  const clearError = useRuns((s) => s.clearActionError);
  const edit = (change: Partial<typeof form>) => {
    setForm({ ...form, ...change });
    setProblem(null);
  };

  const close = () => {
    clearError();
    onClose();
  };
  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    const built = buildStartRequest(form);
    if ('problem' in built) return setProblem(built.problem);
    const run = await start(built.request);
    if (run) onStarted(run);
  };

  return (
    <Dialog
      title="Start a run"
      size="large"
      onClose={close}
      description={
        <p className="callout callout--warn" data-testid="run-warning">
          <Icon name="warning" />
          <span>
            This runs a command on the workstation <strong>as the workstation’s user</strong>, with its files and its Hugging Face token (as HF_TOKEN). Only start what you would run in a terminal there.
          </span>
        </p>
      }
      footer={
        <>
          <button type="button" className="button" onClick={close}>
            Cancel
          </button>
          <button type="submit" form="start-run-form" className="button button--primary" disabled={busy || form.command.trim() === ''}>
            {busy ? 'Starting…' : 'Start run'}
          </button>
        </>
      }
    >
      <form id="start-run-form" className="stack" onSubmit={onSubmit} noValidate>
        <Field label="Command" hint="As in a terminal: python train.py --lr 2e-5. It runs without a shell, so pipes, globs and $VARS are not expanded.">
          {({ id, describedBy }) => (
            <input id={id} className="input input--mono" value={form.command} onChange={(e) => edit({ command: e.target.value })} autoComplete="off" autoCapitalize="off" autoCorrect="off" spellCheck={false} aria-describedby={describedBy} data-autofocus />
          )}
        </Field>
        <div className="run-form__row">
          <Field label="Name" hint="Optional; the program’s name by default.">
            {({ id, describedBy }) => <input id={id} className="input" value={form.name} onChange={(e) => edit({ name: e.target.value })} maxLength={64} autoComplete="off" spellCheck={false} aria-describedby={describedBy} />}
          </Field>
          <Field label="Working folder" hint="A full path; the home folder if empty.">
            {({ id, describedBy }) => (
              <input id={id} className="input input--mono" value={form.cwd} onChange={(e) => edit({ cwd: e.target.value })} placeholder="~" autoComplete="off" autoCapitalize="off" spellCheck={false} aria-describedby={describedBy} />
            )}
          </Field>
        </div>
        <Field label="Environment" hint="NAME=value, one a line. HF_TOKEN, HF_HUB_CACHE and HALOFORGE_RUN_DIR are always set by Halo Forge; no token values here.">
          {({ id, describedBy }) => (
            <textarea id={id} className="input input--mono run-form__env" value={form.env} onChange={(e) => edit({ env: e.target.value })} rows={3} placeholder="WANDB_MODE=offline" autoComplete="off" autoCapitalize="off" spellCheck={false} aria-describedby={describedBy} />
          )}
        </Field>
        <div className="run-form__row">
          <Field label="Model" hint="Optional: a model pulled on Models. The job gets its folder as HALOFORGE_MODEL_PATH.">
            {({ id, describedBy }) => (
              <select id={id} className="input" value={form.model} onChange={(e) => edit({ model: e.target.value })} aria-describedby={describedBy}>
                <option value="">{models.length === 0 ? 'None (no model pulled yet)' : 'None'}</option>
                {models.map((m) => (
                  <option key={m} value={m}>
                    {m}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <label className="run-form__check">
            <input type="checkbox" checked={form.gpu} onChange={(e) => edit({ gpu: e.target.checked })} />
            <span>GPU job: waits its turn when the workstation runs one GPU job at a time</span>
          </label>
        </div>
        {problem ? <Result tone="danger" title="Not started" detail={problem} testId="start-problem" /> : null}
        {error ? <Result tone="danger" title={error.title} detail={error.detail} testId="start-error" /> : null}
      </form>
    </Dialog>
  );
}
