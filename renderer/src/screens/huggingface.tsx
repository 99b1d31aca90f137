import { useEffect, type ReactElement } from 'react';
import { ScreenHeader } from '../components/ui';
import { useHuggingFace } from '../stores/huggingface';
import { HfStatusCard } from './huggingface/hf-status-card';
import { HfTokenCard } from './huggingface/hf-token-card';
import { ModelAccessCard } from './huggingface/model-access-card';

export function HuggingFaceScreen(): ReactElement {
  const load = useHuggingFace((s) => s.load);
  const dismissOutcome = useHuggingFace((s) => s.dismissOutcome);
  useEffect(() => {
    void load();
    return dismissOutcome;
  }, [load, dismissOutcome]);

  return (
    <>
      <ScreenHeader
        title="Hugging Face access"
        lead="The workstation’s Hugging Face token (hf_…) lets it download gated and private models. It is stored on the workstation, never in this browser, and it is separate from Halo Forge API tokens."
      />
      <div className="columns">
        <div className="stack stack--loose">
          <HfStatusCard />
          <HfTokenCard />
        </div>
        <ModelAccessCard />
      </div>
    </>
  );
}
