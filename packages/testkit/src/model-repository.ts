/**
 * Writes a model repository in Triton's layout, for tests and for the example-model script:
 *
 * ```
 * <dir>/<model>/config.json          optional; Triton model-configuration field names
 * <dir>/<model>/<version>/model.onnx one directory per version, a positive integer
 * <dir>/<model>/<file>               optional extra files, e.g. the label file a config names
 * ```
 *
 * Output is deterministic: the same models always give the same bytes, so a repository built
 * twice can be compared file by file.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A model name as the platform accepts it (docs: DESIGN.md §5): never a path. */
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
/** Triton reads only numeric version directories; 0 and leading zeros are not versions. */
const VERSION = /^[1-9][0-9]{0,17}$/;
/** An extra file sits directly in the model directory. */
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export interface RepositoryModel {
  name: string;
  /** Version directory name (a positive integer) → the bytes of its `model.onnx`. */
  versions: Record<string, Uint8Array>;
  /**
   * Triton model configuration with its JSON field names (name, max_batch_size, input, output, ...),
   * written as `config.json`. Its `name`, when present, must equal the model name, as Triton requires.
   */
  config?: object;
  /** Extra files of the model directory by file name; strings are written as UTF-8. */
  files?: Record<string, string | Uint8Array>;
}

/** How a config object is written: two-space JSON and a final newline. */
export function formatModelConfig(config: object): string {
  return `${JSON.stringify(config, null, 2)}\n`;
}

function check(model: RepositoryModel): void {
  if (!MODEL_NAME.test(model.name)) throw new Error(`model name ${JSON.stringify(model.name)} does not match ${MODEL_NAME}`);
  const versions = Object.keys(model.versions);
  if (versions.length === 0) throw new Error(`model ${model.name} has no version`);
  for (const v of versions) {
    if (!VERSION.test(v)) throw new Error(`model ${model.name}: version ${JSON.stringify(v)} is not a positive integer`);
  }
  const configName = (model.config as { name?: unknown } | undefined)?.name;
  if (configName !== undefined && configName !== model.name) {
    throw new Error(`model ${model.name}: config name ${JSON.stringify(configName)} differs from the model name`);
  }
  for (const file of Object.keys(model.files ?? {})) {
    if (!FILE_NAME.test(file) || VERSION.test(file) || file === 'config.json') {
      throw new Error(`model ${model.name}: ${JSON.stringify(file)} is not a valid extra file name`);
    }
  }
}

/**
 * Writes `models` under `dir` (created if missing; files already there are overwritten, others left
 * alone) and returns the paths written, relative to `dir`, with `/` separators, sorted.
 * Every model is checked before anything is written.
 */
export async function writeModelRepository(dir: string, models: readonly RepositoryModel[]): Promise<string[]> {
  const seen = new Set<string>();
  for (const model of models) {
    check(model);
    if (seen.has(model.name)) throw new Error(`model ${model.name} is given twice`);
    seen.add(model.name);
  }
  const written: string[] = [];
  const put = async (parts: string[], data: string | Uint8Array) => {
    await mkdir(join(dir, ...parts.slice(0, -1)), { recursive: true });
    await writeFile(join(dir, ...parts), data);
    written.push(parts.join('/'));
  };
  for (const model of models) {
    if (model.config !== undefined) await put([model.name, 'config.json'], formatModelConfig(model.config));
    for (const [file, data] of Object.entries(model.files ?? {})) await put([model.name, file], data);
    for (const [version, bytes] of Object.entries(model.versions)) await put([model.name, version, 'model.onnx'], bytes);
  }
  return written.sort();
}
