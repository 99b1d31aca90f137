// A repo's files grouped the way people choose them: one GGUF quantization
// (a split `-00001-of-00003.gguf` set counts as one), the safetensors set
// with the configs a runtime needs beside it, PyTorch weights, the rest.
import type { FileGroup, RepoFile } from '../../../shared/models.js';

const SPLIT = /-(\d{5})-of-(\d{5})\.gguf$/i;
const QUANT = /(?:^|[-_.])((?:I?Q\d(?:_[A-Z0-9]+)*)|F16|BF16|F32|FP16|FP32)(?=[-_.])/i;
const CONFIG = /(^|\/)(config\.json|generation_config\.json|tokenizer[^/]*|special_tokens_map\.json|vocab\.[^/]+|merges\.txt|[^/]*\.model|chat_template\.[^/]+|preprocessor_config\.json)$/i;

/** "Q4_K_M" from `model.Q4_K_M.gguf` or `model-q4_k_m-00001-of-00002.gguf`; the file's stem when none is named. */
export function ggufLabel(path: string): string {
  const name = path.split('/').pop()!.replace(SPLIT, '.gguf');
  const quant = QUANT.exec(name.replace(/\.gguf$/i, '.'))?.[1];
  return quant ? quant.toUpperCase() : name.replace(/\.gguf$/i, '');
}

export function groupFiles(files: RepoFile[]): FileGroup[] {
  const groups: FileGroup[] = [];
  const taken = new Set<string>();
  const configs = files.filter((f) => CONFIG.test(f.path));
  const sum = (list: RepoFile[]) => list.reduce((n, f) => n + f.size, 0);

  const ggufs = new Map<string, RepoFile[]>();
  for (const file of files.filter((f) => /\.gguf$/i.test(f.path))) {
    // Split shards share one key: the path with the shard number taken out.
    const key = file.path.replace(SPLIT, '.gguf');
    ggufs.set(key, [...(ggufs.get(key) ?? []), file]);
  }
  for (const [key, list] of [...ggufs].sort((a, b) => sum(a[1]) - sum(b[1]))) {
    const split = SPLIT.test(list[0]!.path);
    const label = ggufLabel(key) + (split ? ` (${list.length} parts)` : '');
    const include = split ? [key.replace(/\.gguf$/i, '-*-of-*.gguf')] : [key];
    groups.push({ kind: 'gguf', label, files: list.map((f) => f.path).sort(), size: sum(list), include });
    list.forEach((f) => taken.add(f.path));
  }

  const weights = (kind: 'safetensors' | 'pytorch', pattern: RegExp, glob: string[], noun: string) => {
    const list = files.filter((f) => pattern.test(f.path) && !taken.has(f.path));
    if (list.length === 0) return;
    const shards = list.filter((f) => !/\.index\.json$/.test(f.path)).length;
    const withConfigs = [...list, ...configs.filter((c) => !taken.has(c.path))];
    groups.push({
      kind,
      label: `${noun} (${shards} ${shards === 1 ? 'file' : 'shards'})`,
      files: withConfigs.map((f) => f.path).sort(),
      size: sum(withConfigs),
      include: [...glob, ...configs.map((c) => c.path)],
    });
    list.forEach((f) => taken.add(f.path));
  };
  weights('safetensors', /\.safetensors(\.index\.json)?$/i, ['*.safetensors', '*.safetensors.index.json'], 'safetensors');
  weights('pytorch', /(pytorch_model[^/]*\.bin|\.pt|\.pth)(\.index\.json)?$/i, ['pytorch_model*.bin', 'pytorch_model*.bin.index.json', '*.pt', '*.pth'], 'PyTorch');

  const rest = files.filter((f) => !taken.has(f.path) && !(groups.some((g) => g.kind !== 'gguf') && CONFIG.test(f.path)));
  if (rest.length > 0) {
    groups.push({ kind: 'other', label: groups.length ? 'Other files' : 'All files', files: rest.map((f) => f.path).sort(), size: sum(rest), include: rest.map((f) => f.path) });
  }
  return groups;
}
