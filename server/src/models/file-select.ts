// Which of a repo's files a pull takes: include/exclude globs with the meaning
// of huggingface_hub's allow_patterns/ignore_patterns (fnmatch, where `*`
// also crosses `/`; a pattern ending in `/` means everything under it).
import picomatch from 'picomatch';
import { httpError } from '../errors.js';
import type { RepoFile } from '../../../shared/models.js';

function matcher(patterns: string[]): (path: string) => boolean {
  if (patterns.length === 0) return () => false;
  const expanded = patterns.map((p) => (p.endsWith('/') ? `${p}**` : p));
  // Python's fnmatch lets `*` cross `/`, so `*.safetensors` takes `sub/x.safetensors`:
  // a pattern without a slash is matched against the file's name in any folder.
  const withPath = expanded.filter((p) => p.includes('/'));
  const byName = expanded.filter((p) => !p.includes('/'));
  const path = withPath.length ? picomatch(withPath, { dot: true }) : () => false;
  const name = byName.length ? picomatch(byName, { dot: true }) : () => false;
  return (p) => path(p) || name(p) || name(p.slice(p.lastIndexOf('/') + 1));
}

/** The files to pull; throws `model.no_match` when the patterns select nothing, naming them. */
export function selectFiles(files: RepoFile[], include: string[], exclude: string[]): RepoFile[] {
  for (const pattern of include) {
    const one = matcher([pattern]);
    if (!files.some((f) => one(f.path))) {
      throw httpError(422, 'model.no_match', `The include pattern "${pattern}" matches none of the ${files.length} files in this repo; nothing was pulled.`);
    }
  }
  const wanted = include.length > 0 ? matcher(include) : () => true;
  const unwanted = matcher(exclude);
  const chosen = files.filter((f) => wanted(f.path) && !unwanted(f.path));
  if (chosen.length === 0) {
    const what = [include.length ? `include ${include.join(', ')}` : null, exclude.length ? `exclude ${exclude.join(', ')}` : null].filter(Boolean).join(' and ');
    throw httpError(422, 'model.no_match', `No file of the ${files.length} in this repo matches ${what || 'the request'}; check the patterns against the file list.`);
  }
  return chosen;
}
