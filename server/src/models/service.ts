// What the routes and the CLI ask of Models. The engine behind it (cache
// layout, transfer, verification, locking) lives beside this file.
import type {
  LocalModelList,
  ModelDeleteRequest,
  ModelDeleteResult,
  ModelDetails,
  ModelSearchResult,
  PullInfo,
  PullRequest,
} from '../../../shared/models.js';

export interface ModelService {
  /** Hub search; a pasted `org/name` or huggingface.co URL finds that model first. */
  search(query: string, options?: { limit?: number }): Promise<ModelSearchResult>;
  /** A model's files, groups and this workstation's access, at a revision (default main). */
  details(repo: string, revision?: string): Promise<ModelDetails>;
  /** Everything in the shared cache. */
  listLocal(): Promise<LocalModelList>;
  /**
   * Starts (or resumes) a pull and returns at once; progress arrives through
   * `onPull`. Refuses up front (HaloError) what can be known before bytes move:
   * a bad id, no access, no matching file, too little disk.
   */
  startPull(request: PullRequest): Promise<PullInfo>;
  /** The pulls this process runs, and unfinished ones left by others (interrupted, or a CLI's). */
  listPulls(): PullInfo[];
  pause(id: string): Promise<PullInfo>;
  resume(id: string): Promise<PullInfo>;
  /** Stops a pull; its partial files are removed unless `keepPartial`. */
  cancel(id: string): Promise<PullInfo>;
  remove(request: ModelDeleteRequest): Promise<ModelDeleteResult>;
  /** Every change of a pull's state or progress (throttled to a few a second per pull). Returns an unsubscribe function. */
  onPull(listener: (pull: PullInfo) => void): () => void;
  /** The local list changed (a pull finished, a delete, another tool wrote to the cache). */
  onLocalChange(listener: () => void): () => void;
  close(): Promise<void>;
}
