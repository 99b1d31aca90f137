import { join } from 'node:path';

// Where serving keeps its files under HALOFORGE_HOME.

/** A model id as a file name: "org/name:file.gguf" → "org--name--file.gguf". */
export function fileSafeName(id: string): string {
  return id.replace(/[/:\\]+/g, '--').replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_').slice(0, 150);
}

/** One log per runtime and model: restarts append to it, and it is rotated at its cap. */
export function runtimeLogPath(home: string, runtime: string, modelId: string): string {
  return join(home, 'logs', 'runtimes', `${runtime}-${fileSafeName(modelId)}.log`);
}

/** One folder per launch, for its launch_context.json (issue 11's runs will live beside them). */
export function runtimeRunDir(home: string, launchId: string): string {
  return join(home, 'runs', `serve-${launchId}`);
}
