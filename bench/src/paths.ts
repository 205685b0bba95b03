/** Locations the bench needs, resolved from its own file (bench/dist/*.js or bench/src/*.ts). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The v2 gRPC service definition the gRPC client is built from. */
export const GRPC_PROTO = join(REPO_ROOT, 'protos/inference/grpc_service.proto');
export const PROTO_INCLUDE = join(REPO_ROOT, 'protos');
/** The all-in-one server's entry point, present once `npm run build` has built apps/sibyl. */
export const SIBYL_MAIN = join(REPO_ROOT, 'apps/sibyl/dist/main.js');
/** The split topology's apps, present once they are built. */
export const SPLIT_MAIN = Object.freeze({
  management: join(REPO_ROOT, 'apps/management/dist/main.js'),
  router: join(REPO_ROOT, 'apps/router/dist/main.js'),
  worker: join(REPO_ROOT, 'apps/worker/dist/main-onnx.js'),
  gateway: join(REPO_ROOT, 'apps/gateway/dist/main.js'),
});
/** The compiled bench's own directory (child process entry points live here). */
export const BENCH_DIST = fileURLToPath(new URL('.', import.meta.url));
export const RESULTS_DIR = join(REPO_ROOT, 'bench/results');

/**
 * The Node.js flags Sibyl's server processes run with: those of the root `npm start` script (the image's
 * entry point carries the same, checked by tests/deploy). Every Sibyl process the bench starts gets
 * them, so it measures Sibyl as it is run; the yardsticks (one-model service, echo, proxy) run on
 * Node's defaults, as the obvious service would.
 */
export const SERVER_NODE_FLAGS: readonly string[] = Object.freeze(startScriptNodeFlags(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')));

/** The `--` flags between `node` and the entry point of a package.json's `start` script. */
export function startScriptNodeFlags(packageJson: string): string[] {
  const start = (JSON.parse(packageJson) as { scripts?: { start?: string } }).scripts?.start;
  const words = start?.trim().split(/\s+/) ?? [];
  if (words[0] !== 'node') throw new Error(`package.json: the start script does not run node: ${JSON.stringify(start)}`);
  const flags: string[] = [];
  for (const word of words.slice(1)) {
    if (!word.startsWith('--')) break;
    flags.push(word);
  }
  return flags;
}
