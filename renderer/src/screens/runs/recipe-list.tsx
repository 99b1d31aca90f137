import { useState, type ReactElement } from 'react';
import type { Recipe, RunInfo } from '../../../../shared/runs';
import { ConfirmDialog } from '../../components/dialog';
import { Icon } from '../../components/icons';
import { EmptyState, Result, Spinner } from '../../components/ui';
import { formatCommandLine } from '../../lib/run-form';
import { useRuns, type RunPermissions } from '../../stores/runs';

function DeleteRecipeDialog({ name, onClose }: { name: string; onClose: () => void }): ReactElement {
  const remove = useRuns((s) => s.deleteRecipe);
  const busy = useRuns((s) => s.busy === `delete:${name}`);
  const error = useRuns((s) => s.actionError);
  return (
    <ConfirmDialog
      title={`Delete the recipe “${name}”?`}
      confirmLabel="Delete recipe"
      busy={busy}
      onCancel={onClose}
      onConfirm={async () => {
        if (await remove(name)) onClose();
      }}
      error={error ? <Result tone="danger" title={error.title} detail={error.detail} /> : null}
    >
      <p>Runs started from it stay in the history.</p>
    </ConfirmDialog>
  );
}

function RecipeItem({ recipe, can, onStarted, onDelete }: { recipe: Recipe; can: RunPermissions; onStarted: (run: RunInfo) => void; onDelete: () => void }): ReactElement {
  const startRecipe = useRuns((s) => s.startRecipe);
  const starting = useRuns((s) => s.busy === `recipe:${recipe.name}`);
  const env = Object.keys(recipe.env);
  return (
    <li className="recipe" data-testid={`recipe-${recipe.name}`}>
      <div className="recipe__text">
        <p className="recipe__name">{recipe.name}</p>
        <code className="run-list__command">{formatCommandLine(recipe.command)}</code>
        <p className="recipe__meta">
          {recipe.cwd ? <span>in {recipe.cwd}</span> : null}
          {env.length > 0 ? <span>env {env.join(', ')}</span> : null}
          {recipe.model ? <span>{recipe.model}</span> : null}
          {recipe.gpu ? <span>GPU</span> : null}
        </p>
      </div>
      <div className="recipe__actions">
        <button
          type="button"
          className="button button--small button--primary"
          disabled={!can.operate || starting}
          title={can.operateWhy ?? undefined}
          aria-label={`Start the recipe ${recipe.name}`}
          onClick={async () => {
            const run = await startRecipe(recipe.name);
            if (run) onStarted(run);
          }}
        >
          <Icon name="play" size={14} /> {starting ? 'Starting…' : 'Start'}
        </button>
        {can.admin ? (
          <button type="button" className="button button--small button--ghost-danger" onClick={onDelete} aria-label={`Delete the recipe ${recipe.name}`}>
            Delete
          </button>
        ) : null}
      </div>
    </li>
  );
}

export function RecipeList({ can, onStarted }: { can: RunPermissions; onStarted: (run: RunInfo) => void }): ReactElement {
  const recipes = useRuns((s) => s.recipes);
  const loaded = useRuns((s) => s.recipesLoaded);
  const error = useRuns((s) => s.recipesError);
  const actionError = useRuns((s) => s.actionError);
  const busy = useRuns((s) => s.busy);
  const [deleting, setDeleting] = useState<string | null>(null);

  if (!loaded) return <Spinner label="Loading recipes" />;
  if (error && recipes.length === 0) return <Result tone="danger" title={error.title} detail={error.detail} />;
  if (recipes.length === 0) {
    return (
      <EmptyState icon="runs" title="No recipes yet">
        <p>Open a run and choose “Save as recipe” to start it again later with one click.</p>
      </EmptyState>
    );
  }
  return (
    <>
      {!can.operate ? <p className="muted run-why">{can.operateWhy}</p> : null}
      <ul className="recipes" aria-label="Recipes">
        {recipes.map((recipe) => (
          <RecipeItem key={recipe.name} recipe={recipe} can={can} onStarted={onStarted} onDelete={() => setDeleting(recipe.name)} />
        ))}
      </ul>
      {actionError && busy === null && !deleting ? <Result tone="danger" title={actionError.title} detail={actionError.detail} testId="recipe-error" /> : null}
      {deleting ? <DeleteRecipeDialog name={deleting} onClose={() => setDeleting(null)} /> : null}
    </>
  );
}
