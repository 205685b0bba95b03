/**
 * Where the v2 service definitions live and how every Sibyl gRPC server and client loads them.
 * The options must match those in scripts/generate-protos.mjs (the generated types assume them).
 */
import { fileURLToPath } from 'node:url';
import { loadSync, type Options, type PackageDefinition } from '@grpc/proto-loader';

export const PROTO_LOADER_OPTIONS: Readonly<Options> = Object.freeze({
  keepCase: true,
  longs: String,
  enums: String,
  arrays: true,
  oneofs: true,
});

/** The repository's protos/ directory (packages/protocol sits two levels below the root). */
export const PROTOS_DIR = fileURLToPath(new URL('../../../protos/', import.meta.url));

export const INFERENCE_PROTO = 'inference/grpc_service.proto';
export const HEALTH_PROTO = 'grpc/health/v1/health.proto';

/** Loads the inference and health services with the shared options. */
export function loadInferenceDefinitions(): PackageDefinition {
  return loadSync([INFERENCE_PROTO, HEALTH_PROTO], { ...PROTO_LOADER_OPTIONS, includeDirs: [PROTOS_DIR] });
}
