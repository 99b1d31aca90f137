// A repo's file names come from the Hub and are not trusted: each is joined
// onto the cache folder, so one like `../../.bashrc` would write outside it
// (huggingface_hub#4540 fixed exactly this).

/** Null when `path` is a safe relative file path inside a snapshot, else why not. */
export function repoPathProblem(path: string): string | null {
  if (path.length === 0) return 'an empty file name';
  if (path.includes('\\')) return `"${path}" contains a backslash`;
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) return `"${path}" is an absolute path`;
  if (path.includes('\0')) return `"${path}" contains a NUL byte`;
  const segments = path.split('/');
  if (segments.some((s) => s === '')) return `"${path}" has an empty segment`;
  if (segments.some((s) => s === '.' || s === '..')) return `"${path}" contains "." or ".."`;
  if (path.length > 1024) return `"${path.slice(0, 60)}…" is longer than 1024 characters`;
  return null;
}
