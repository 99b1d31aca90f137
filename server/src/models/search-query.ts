import { httpError } from '../errors.js';
import { looksLikeSecret } from './repo-id.js';

/**
 * A search box is where a token gets pasted by mistake, and a search sends its
 * words to the Hub: text shaped like a secret is refused here, before any call.
 */
export function searchable(query: string): string {
  const text = query.trim();
  if (looksLikeSecret(text)) {
    throw httpError(400, 'model.looks_like_token', 'That looks like a Hugging Face token, not a model name; it was not sent anywhere. Search by name, org/name or a huggingface.co link.');
  }
  return text;
}
