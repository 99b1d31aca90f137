import type { Recipe, RecipeRequest } from '../../../shared/runs.js';
import { httpError } from '../errors.js';
import { dirname } from 'node:path';
import { readPrivateText, writePrivateFileAtomic } from '../fs/private-file.js';
import { storageError } from '../fs/storage-error.js';
import { checkCommandAndEnv, checkName } from './run-input.js';

/**
 * Saved runs ($HALOFORGE_HOME/recipes.json, 0600): a command, its folder,
 * variables and model, started again with one click. A recipe holds no
 * secret: token values are refused when it is saved, as they are for a run.
 */
export class RecipeStore {
  private recipes = new Map<string, Recipe>();
  private unreadable: string | null = null;
  readonly warnings: string[] = [];

  constructor(readonly path: string) {
    const read = readPrivateText(path);
    if (!read) return;
    this.warnings.push(...read.warnings);
    try {
      const data = JSON.parse(read.text) as { recipes?: Recipe[] };
      for (const recipe of data.recipes ?? []) if (recipe && typeof recipe.name === 'string' && Array.isArray(recipe.command)) this.recipes.set(recipe.name, recipe);
    } catch (err) {
      // Kept as it is, never overwritten: saving would lose the recipes in it. A person fixes or moves it.
      this.unreadable = `The recipes file ${path} cannot be read (${(err as Error).message}); fix or move it, then restart Halo Forge.`;
      this.warnings.push(this.unreadable);
    }
  }

  list(): Recipe[] {
    return [...this.recipes.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  get(name: string): Recipe {
    const recipe = this.recipes.get(name);
    if (!recipe) throw httpError(404, 'run.recipe_not_found', `There is no recipe named "${name.slice(0, 64)}".`);
    return recipe;
  }

  create(request: RecipeRequest): Recipe {
    if (this.recipes.has(request.name)) throw httpError(409, 'run.recipe_duplicate', `A recipe named "${request.name}" exists already; choose another name or change that one.`);
    return this.put(request, null);
  }

  update(name: string, request: RecipeRequest): Recipe {
    const old = this.get(name);
    if (request.name !== name && this.recipes.has(request.name)) throw httpError(409, 'run.recipe_duplicate', `A recipe named "${request.name}" exists already.`);
    return this.put(request, old);
  }

  remove(name: string): Recipe {
    const recipe = this.get(name);
    const next = new Map(this.recipes);
    next.delete(name);
    this.save(next);
    return recipe;
  }

  private put(request: RecipeRequest, old: Recipe | null): Recipe {
    checkName(request.name);
    checkCommandAndEnv(request.command, request.env ?? {});
    const now = new Date().toISOString();
    const recipe: Recipe = {
      name: request.name,
      command: [...request.command],
      cwd: request.cwd ?? null,
      env: { ...(request.env ?? {}) },
      model: request.model ?? null,
      revision: request.revision ?? null,
      gpu: request.gpu ?? false,
      createdAt: old?.createdAt ?? now,
      updatedAt: now,
    };
    const next = new Map(this.recipes);
    if (old) next.delete(old.name);
    next.set(recipe.name, recipe);
    this.save(next);
    return recipe;
  }

  /** Written first, then taken: a refused write leaves the recipes as they were, on disk and here. */
  private save(next: Map<string, Recipe>): void {
    if (this.unreadable) throw httpError(503, 'storage.failed', `${this.unreadable} Nothing was changed.`);
    const recipes = [...next.values()].sort((a, b) => a.name.localeCompare(b.name));
    try {
      writePrivateFileAtomic(this.path, `${JSON.stringify({ recipes }, null, 2)}\n`);
    } catch (err) {
      throw storageError(err, `the recipes file ${this.path}`, dirname(this.path));
    }
    this.recipes = next;
  }
}
