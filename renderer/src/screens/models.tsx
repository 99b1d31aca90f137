import { useEffect, type ReactElement } from 'react';
import { Card, ScreenHeader } from '../components/ui';
import { isActive } from '../lib/models';
import { canOperate, useModels } from '../stores/models';
import { useSession } from '../stores/session';
import { LocalModelsCard } from './models/local-models';
import { ModelPage } from './models/model-page';
import { PullProgress } from './models/pull-progress';
import { SearchCard } from './models/search-card';
import { RunningModelsCard } from './models/serving-controls';

/** Pulls of models other than the one on screen, still running or stopped part-way. */
function OtherPulls({ canOperate }: { canOperate: boolean }): ReactElement | null {
  const pulls = useModels((s) => s.pulls);
  const selected = useModels((s) => s.selected?.repo ?? null);
  const others = Object.values(pulls)
    .filter((p) => p.repo !== selected && (isActive(p) || p.state === 'paused' || p.state === 'interrupted' || p.state === 'failed'))
    .sort((a, b) => (a.startedAt < b.startedAt ? 1 : -1));
  if (others.length === 0) return null;
  return (
    <Card title="Pulls">
      <div className="stack">
        {others.map((pull) => (
          <PullProgress key={pull.id} pull={pull} canOperate={canOperate} />
        ))}
      </div>
    </Card>
  );
}

export function ModelsScreen(): ReactElement {
  const operate = useSession(canOperate);
  const readable = useSession((s) => s.phase === 'ready' && !s.refused && !(s.session?.authRequired && !s.session.token));
  const follow = useModels((s) => s.follow);
  const loadLocal = useModels((s) => s.loadLocal);
  const loadPulls = useModels((s) => s.loadPulls);

  useEffect(() => {
    if (!readable) return;
    void loadLocal();
    void loadPulls();
    return follow();
  }, [readable, follow, loadLocal, loadPulls]);

  return (
    <>
      <ScreenHeader
        title="Models"
        lead="Find models on Hugging Face and pull them into the shared Hugging Face cache, where transformers, vLLM and llama.cpp find them too. A model is ready only once every chosen file is verified."
      />
      <div className="stack stack--loose">
        <SearchCard />
        <ModelPage canOperate={operate} />
        <OtherPulls canOperate={operate} />
        <RunningModelsCard />
        <LocalModelsCard canOperate={operate} />
      </div>
    </>
  );
}
