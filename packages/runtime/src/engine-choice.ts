/**
 * Which engine loads a version, and from which file:
 * - the config names a platform or backend: that engine, or SIBYL_PLATFORM_NOT_SERVED when this
 *   server does not run it;
 * - a registered single file (no directory): an ONNX file, the only single-file format;
 * - a version directory: the config's default_model_filename when it names one (the engine whose
 *   file name has the same extension, else the first), else the first engine whose own file name
 *   the directory holds (model.onnx, model.json). A directory holding only another backend's file
 *   is SIBYL_PLATFORM_NOT_SERVED; one holding none is SIBYL_MODEL_FILE_MISSING naming every candidate.
 */
import { stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { modelFileMissing, platformNotServed } from './errors.js';
import type { DeclaredConfig } from './model-config.js';
import { KNOWN_MODEL_FILES, type ModelEngine } from './model-engine.js';
import type { ModelLocation } from './model-source.js';

export interface EngineChoice {
  engine: ModelEngine;
  file: string;
}

interface Where {
  model: string;
  version: string;
}

async function kindOf(path: string): Promise<'file' | 'dir' | undefined> {
  const info = await stat(path).catch(() => undefined);
  if (info === undefined) return undefined;
  return info.isFile() ? 'file' : info.isDirectory() ? 'dir' : undefined;
}

/** The file an engine loads at `path`: the path itself, or for ONNX a directory of that name holding model.onnx (Triton's onnxruntime backend takes both). */
async function loadable(engine: ModelEngine, path: string): Promise<string | undefined> {
  const kind = await kindOf(path);
  if (kind === 'file') return path;
  if (kind === 'dir' && engine.backend === 'onnxruntime') {
    const inner = join(path, 'model.onnx');
    if ((await kindOf(inner)) === 'file') return inner;
  }
  return undefined;
}

const servedPlatforms = (engines: readonly ModelEngine[]) => engines.flatMap((e) => e.platforms);

export async function chooseEngine(where: Where, location: ModelLocation, config: DeclaredConfig, engines: readonly ModelEngine[]): Promise<EngineChoice> {
  const { model, version } = where;
  if (engines.length === 0) throw new TypeError('no model engines: a service needs at least one');
  let candidates = engines;
  if (config.backend !== undefined) {
    candidates = engines.filter((e) => e.backend === config.backend && (config.platform === undefined || e.platforms.includes(config.platform)));
    if (candidates.length === 0) {
      const what = config.platform !== undefined ? `platform '${config.platform}'` : `backend '${config.backend}'`;
      throw platformNotServed(model, version, what, servedPlatforms(engines));
    }
  }

  if ('file' in location) {
    const engine = candidates.find((e) => e.backend === 'onnxruntime') ?? (config.backend !== undefined ? candidates[0] : undefined);
    if (engine === undefined) throw platformNotServed(model, version, 'an ONNX model file', servedPlatforms(engines));
    if ((await kindOf(location.file)) !== 'file') throw modelFileMissing(model, version, location.file);
    return { engine, file: location.file };
  }

  const { dir } = location;
  if (config.defaultModelFilename !== undefined) {
    const path = join(dir, config.defaultModelFilename);
    const ext = extname(config.defaultModelFilename);
    const engine = candidates.find((e) => extname(e.modelFilename) === ext) ?? candidates[0]!;
    const file = await loadable(engine, path);
    if (file === undefined) throw modelFileMissing(model, version, (await kindOf(path)) === 'dir' ? join(path, 'model.onnx') : path);
    return { engine, file };
  }
  for (const engine of candidates) {
    const file = await loadable(engine, join(dir, engine.modelFilename));
    if (file !== undefined) return { engine, file };
  }
  for (const [filename, backend] of KNOWN_MODEL_FILES) {
    if (candidates.some((e) => e.modelFilename === filename)) continue;
    if ((await kindOf(join(dir, filename))) === 'file') throw platformNotServed(model, version, `'${filename}' (backend '${backend}')`, servedPlatforms(engines));
  }
  const names = candidates.map((e) => join(dir, e.modelFilename));
  throw modelFileMissing(model, version, names.length === 1 ? names[0]! : names);
}
