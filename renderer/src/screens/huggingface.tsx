import { useEffect, useState, type ReactElement } from 'react';
import { ScreenHeader } from '../components/ui';
import { useHuggingFace } from '../stores/huggingface';
import { adminNeed, useSession } from '../stores/session';
import { Card } from '../components/ui';
import { HfStatusCard } from './huggingface/hf-status-card';
import { HfTokenCard } from './huggingface/hf-token-card';
import { ModelAccessCard } from './huggingface/model-access-card';

export function HuggingFaceScreen(): ReactElement {
  const load = useHuggingFace((s) => s.load);
  const dismissOutcome = useHuggingFace((s) => s.dismissOutcome);
  // Not connected: pasting a token is the one thing to do, so its form comes first. Decided once per
  // visit: cards that swapped places under the user after "Save and verify" would lose their focus.
  const present = useHuggingFace((s) => (s.status === null ? null : s.status.present));
  const [formFirst, setFormFirst] = useState<boolean | null>(null);
  useEffect(() => {
    if (formFirst === null && present !== null) setFormFirst(!present);
  }, [formFirst, present]);
  const why = useSession(adminNeed);
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
          {why ? (
            <>
              <HfStatusCard />
              {/* Said before any secret is typed: the save would only meet a 403. */}
              <Card title="Save a token">
                <p className="muted" data-testid="hf-save-locked">
                  Saving or clearing the workstation’s Hugging Face token: {why.charAt(0).toLowerCase() + why.slice(1)}
                </p>
              </Card>
            </>
          ) : formFirst ? (
            <>
              <HfTokenCard />
              <HfStatusCard />
            </>
          ) : (
            <>
              <HfStatusCard />
              <HfTokenCard />
            </>
          )}
        </div>
        <ModelAccessCard />
      </div>
    </>
  );
}
