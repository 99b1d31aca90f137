import { join } from 'node:path';
import type { LocalModel, LocalModelList, LocalRevision } from '../../../shared/models.js';
import type { RuntimeName, ServableModel } from '../../../shared/serving.js';

/**
 * What the shared Hugging Face cache holds that can be served, and which of
 * it a `model` name means. Pure: the cache listing comes from the Models
 * service, so the rules can be tabled.
 */

/** A servable model with where it lies on disk (never sent to a client). */
export interface CatalogEntry extends ServableModel {
  path: string;
}

/** "org/name:file.gguf": the id a client sends as `model`. */
export const modelId = (repo: string, file: string) => `${repo}:${file}`;

const SHARD = /-(\d+)-of-\d+\.gguf$/;
const SHARD_SUFFIX = /-\d+-of-\d+\.gguf$/i;

export function isServableGguf(path: string): boolean {
  const name = path.split('/').pop()!.toLowerCase();
  // The second and later parts of a split GGUF ("-00002-of-00003.gguf") are loaded through the first.
  const shard = SHARD.exec(name);
  // mmproj files are vision projectors, not models.
  return name.endsWith('.gguf') && !(shard && Number(shard[1]) > 1) && !name.startsWith('mmproj');
}

/** A file's size, or for the first part of a split GGUF, all its parts': llama.cpp loads them together. */
function modelSize(path: string, revision: LocalRevision): number {
  const stem = path.replace(SHARD_SUFFIX, '');
  if (stem === path) return revision.files.find((f) => f.path === path)!.size;
  return revision.files.filter((f) => f.path.replace(SHARD_SUFFIX, '') === stem && SHARD_SUFFIX.test(f.path)).reduce((n, f) => n + f.size, 0);
}

/** The revision a name without one means: the one `main` points at, else the newest. */
export function currentRevision(model: LocalModel): LocalRevision | null {
  if (model.revisions.length === 0) return null;
  const main = model.revisions.find((r) => r.refs.includes('main'));
  if (main) return main;
  return [...model.revisions].sort((a, b) => b.lastModified.localeCompare(a.lastModified))[0]!;
}

/** Every GGUF file of every complete model repo in the cache. */
export function servableModels(list: LocalModelList): CatalogEntry[] {
  const out: CatalogEntry[] = [];
  for (const model of list.models) {
    if (model.kind !== 'model' || model.incomplete) continue;
    const revision = currentRevision(model);
    if (!revision) continue;
    for (const file of revision.files) {
      if (!isServableGguf(file.path)) continue;
      out.push({
        model: modelId(model.id, file.path),
        repo: model.id,
        file: file.path,
        commit: revision.commit,
        size: modelSize(file.path, revision),
        runtime: 'embedded',
        running: false,
        path: join(model.path, 'snapshots', revision.commit, file.path),
      });
    }
  }
  return out.sort((a, b) => a.model.localeCompare(b.model));
}

/** "org/name" or "org/name:file.gguf"; the file part may name a file in a folder of the repo. */
export function parseModelName(name: string): { repo: string; file: string | null } {
  const colon = name.indexOf(':');
  if (colon < 0) return { repo: name, file: null };
  return { repo: name.slice(0, colon), file: name.slice(colon + 1) || null };
}

export type Resolution =
  | { kind: 'found'; entry: CatalogEntry }
  | { kind: 'not_downloaded'; repo: string; file: string | null }
  | { kind: 'incomplete'; repo: string }
  | { kind: 'ambiguous'; repo: string; choices: string[] }
  /** The repo is in the cache but holds no GGUF: what the embedded runtime runs. */
  | { kind: 'no_gguf'; repo: string };

/**
 * Which downloaded file a name means. A repo name alone means its one GGUF
 * file; a repo with several needs the file named (LM Studio picks one
 * silently, and a 70B Q8 loaded by mistake costs minutes and most of the memory).
 */
export function resolveModel(name: string, list: LocalModelList, catalog = servableModels(list)): Resolution {
  const { repo, file } = parseModelName(name);
  const local = list.models.find((m) => m.kind === 'model' && m.id.toLowerCase() === repo.toLowerCase());
  if (!local) return { kind: 'not_downloaded', repo, file };
  if (local.incomplete) return { kind: 'incomplete', repo: local.id };
  const files = catalog.filter((e) => e.repo === local.id);
  if (file !== null) {
    const entry = files.find((e) => e.file === file) ?? files.find((e) => e.file.split('/').pop() === file);
    if (entry) return { kind: 'found', entry };
    const revision = currentRevision(local);
    if (revision?.files.some((f) => f.path === file)) return { kind: 'no_gguf', repo: local.id };
    return { kind: 'not_downloaded', repo: local.id, file };
  }
  if (files.length === 1) return { kind: 'found', entry: files[0]! };
  if (files.length === 0) return { kind: 'no_gguf', repo: local.id };
  return { kind: 'ambiguous', repo: local.id, choices: files.map((e) => e.model) };
}

/** The default runtime for a file: GGUF runs embedded. */
export function defaultRuntime(_entry: CatalogEntry): RuntimeName {
  return 'embedded';
}
