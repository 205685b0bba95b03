/** Locations the bench needs, resolved from its own file (bench/dist/*.js or bench/src/*.ts). */
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
