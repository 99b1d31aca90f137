// Hub search as people type it: words, an `org/name`, or a pasted
// huggingface.co link (that model first, even where the words would not find
// it). A pasted token is refused before anything is sent.
import type { ModelSearchResult } from '../../../shared/models.js';
import { httpError } from '../errors.js';
import type { HubApi } from './hub-api.js';
import { looksLikeSecret, parseRepoRef } from './repo-id.js';

export async function searchHub(hub: HubApi, hubUrl: string, query: string, wanted: number | undefined, readToken: () => Promise<string | null>): Promise<ModelSearchResult> {
  const text = query.trim();
  // People paste tokens into search boxes: never send one to the Hub as words.
  if (looksLikeSecret(text)) throw httpError(400, 'model.looks_like_token', 'That looks like a Hugging Face token, not a search; it was not sent anywhere.');
  const limit = Math.min(Math.max(wanted ?? 20, 1), 100);
  const token = await readToken();
  // A pasted id or URL names one model: find it first, then what else the words match.
  const named = text.includes('/') ? parseRepoRef(text, hubUrl).repo : null;
  const models = await hub.search(named ?? text, limit, token);
  if (named && !models.some((m) => m.id === named)) {
    try {
      const info = await hub.info(named, 'main', token);
      models.unshift({ id: named, downloads: null, likes: null, gated: info.gated, private: info.private, updatedAt: null, pipelineTag: null, library: null });
    } catch {
      // Not on the Hub, or not visible: the search answers what it found.
    }
  } else if (named) {
    models.sort((a, b) => Number(b.id === named) - Number(a.id === named));
  }
  return { query: text, models };
}
