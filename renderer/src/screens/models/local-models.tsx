import { useState, type ReactElement } from 'react';
import type { LocalModel, LocalRevision } from '../../../../shared/models';
import { Badge, Card, EmptyState, Result, Spinner } from '../../components/ui';
import { ConfirmDialog } from '../../components/dialog';
import type { Explained } from '../../api/failure';
import { formatDateTime, relativeTime } from '../../lib/format';
import { formatBytes } from '../../lib/models';
import { useModels } from '../../stores/models';
import { RunControls } from './serving-controls';

interface Removal {
  repo: string;
  revision: LocalRevision | null;
  size: number;
}

function revisionName(revision: LocalRevision): string {
  return revision.refs.length > 0 ? revision.refs.join(', ') : revision.commit.slice(0, 12);
}

function DeleteDialog({ removal, onClose }: { removal: Removal; onClose: () => void }): ReactElement {
  const remove = useModels((s) => s.remove);
  const deleting = useModels((s) => s.deleting);
  const [error, setError] = useState<Explained | null>(null);
  const what = removal.revision ? `revision ${revisionName(removal.revision)} of ${removal.repo}` : removal.repo;
  return (
    <ConfirmDialog
      title={`Delete ${what}?`}
      confirmLabel="Delete"
      busy={deleting}
      onCancel={onClose}
      onConfirm={async () => {
        const failed = await remove(removal.repo, removal.revision?.commit);
        if (failed) setError(failed);
        else onClose();
      }}
      error={error ? <Result tone="danger" title={error.title} detail={error.detail} /> : null}
    >
      <p>
        Its files leave the shared Hugging Face cache ({formatBytes(removal.size)}), for every tool on this machine: transformers, vLLM and llama.cpp would download them again.
        {removal.revision ? ' Files another revision still uses are kept.' : ''}
      </p>
    </ConfirmDialog>
  );
}

function LocalModelItem({ model, canOperate, onDelete }: { model: LocalModel; canOperate: boolean; onDelete: (removal: Removal) => void }): ReactElement {
  const files = new Set(model.revisions.flatMap((r) => r.files.map((f) => f.path))).size;
  return (
    <li className="local-model" data-testid={`local-${model.id}`}>
      <div className="local-model__head">
        <code className="local-model__id">{model.kind === 'model' ? model.id : `${model.kind}: ${model.id}`}</code>
        {model.incomplete ? <Badge tone="warn">Incomplete</Badge> : <Badge tone="ok">Ready</Badge>}
      </div>
      <dl className="local-model__facts">
        <div>
          <dt>Size on disk</dt>
          <dd>{formatBytes(model.size)}</dd>
        </div>
        <div>
          <dt>Files</dt>
          <dd>{files}</dd>
        </div>
        <div>
          <dt>Pulled</dt>
          <dd>{model.lastPulled ? <time dateTime={model.lastPulled} title={formatDateTime(model.lastPulled)}>{relativeTime(model.lastPulled)}</time> : <span className="muted">by another tool</span>}</dd>
        </div>
      </dl>
      <ul className="local-model__revisions" aria-label={`Revisions of ${model.id}`}>
        {model.revisions.map((revision) => (
          <li key={revision.commit} className="revision">
            <div className="revision__text">
              <span className="revision__name">
                <code>{revisionName(revision)}</code>
                <span className="muted">{formatBytes(revision.size)}</span>
              </span>
              <details className="revision__files">
                <summary>
                  {revision.files.length} file{revision.files.length === 1 ? '' : 's'}
                </summary>
                <ul>
                  {revision.files.map((file) => (
                    <li key={file.path}>
                      <code>{file.path}</code> <span className="muted">{formatBytes(file.size)}</span>
                    </li>
                  ))}
                </ul>
              </details>
            </div>
            {canOperate && model.revisions.length > 1 ? (
              <button type="button" className="button button--small button--ghost-danger" onClick={() => onDelete({ repo: model.id, revision, size: revision.size })} aria-label={`Delete revision ${revisionName(revision)} of ${model.id}`}>
                Delete revision
              </button>
            ) : null}
          </li>
        ))}
      </ul>
      {model.kind === 'model' && !model.incomplete ? <RunControls repo={model.id} /> : null}
      {canOperate ? (
        <div className="button-row">
          <button type="button" className="button button--small button--ghost-danger" onClick={() => onDelete({ repo: model.id, revision: null, size: model.size })} aria-label={`Delete ${model.id}`}>
            Delete
          </button>
        </div>
      ) : null}
    </li>
  );
}

export function LocalModelsCard({ canOperate }: { canOperate: boolean }): ReactElement {
  const local = useModels((s) => s.local);
  const error = useModels((s) => s.localError);
  const [removal, setRemoval] = useState<Removal | null>(null);
  const free = local?.freeBytes;
  return (
    <Card
      title="On this workstation"
      description={
        local ? (
          <>
            Everything in the shared Hugging Face cache, <code className="break-anywhere">{local.cacheDir}</code>
            {free !== null && free !== undefined ? `, ${formatBytes(free)} free` : ''}. Models that Python tools, vLLM or llama.cpp pulled show up here too.
          </>
        ) : (
          'Everything in the shared Hugging Face cache.'
        )
      }
    >
      {error ? <Result tone="danger" title={error.title} detail={error.detail} /> : null}
      {!local && !error ? <Spinner label="Listing the cache" /> : null}
      {local && local.models.length === 0 ? <EmptyState icon="overview" title="No models yet">Search above and pull one.</EmptyState> : null}
      {local && local.models.length > 0 ? (
        <ul className="local-models" aria-label="Models in the cache">
          {local.models.map((model) => (
            <LocalModelItem key={`${model.kind}:${model.id}`} model={model} canOperate={canOperate} onDelete={setRemoval} />
          ))}
        </ul>
      ) : null}
      {removal ? <DeleteDialog removal={removal} onClose={() => setRemoval(null)} /> : null}
    </Card>
  );
}
