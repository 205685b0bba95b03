/**
 * The routed data plane's coded errors (routed-inference-service.ts). A model with nothing live is
 * the router's SIBYL_ROUTE_MODEL_NOT_LIVE (errors.ts, thrown by the traffic split); unknown models and
 * versions are the router's NOT_FOUND errors, passed on unchanged.
 */
import { defineError, SibylError } from '@sibyl/protocol';

export const poolNoInstance = defineError(
  'SIBYL_POOL_NO_INSTANCE',
  'UNAVAILABLE',
  'The backend pool a model version is routed to has no live instance now (none started, or every one left or is draining); the request was not sent.',
  (pool: string, model: string, version: number) =>
    `backend pool '${pool}' has no live instance to serve model '${model}' version ${version}`,
);

export const poolKindUnsupported = defineError(
  'SIBYL_POOL_KIND_UNSUPPORTED',
  'UNIMPLEMENTED',
  'A model version is routed to a pool of a kind this gateway has no client for yet (torchserve, pipeline); the request was not sent. Sibyl workers and Triton (v2 protocol) are served.',
  (pool: string, kind: string, model: string, version: number) =>
    `model '${model}' version ${version} is routed to pool '${pool}' of kind ${kind}, which this gateway cannot call yet (it calls sibyl-onnx, sibyl-tf and triton pools)`,
);

/** Pool kinds the gateway calls through the v2 protocol (the backends of @sibyl/backends). */
export const V2_POOL_KINDS: ReadonlySet<string> = new Set(['sibyl-onnx', 'sibyl-tf', 'triton']);

/** The runtime's code for a version it does not have (packages/runtime/src/errors.ts), so a client sees one answer whichever process refuses it. */
export const VERSION_NOT_FOUND_CODE = 'SIBYL_MODEL_VERSION_NOT_FOUND';

/**
 * A version that is not a positive integer, refused before the router is asked: the runtime's
 * SIBYL_MODEL_VERSION_NOT_FOUND, with its message. Built here rather than declared: a code is
 * declared once in the whole process (`defineError`), and in the all-in-one the runtime declares it.
 */
export function versionNotInteger(model: string, version: string): SibylError {
  return new SibylError(
    VERSION_NOT_FOUND_CODE,
    'NOT_FOUND',
    `unknown version '${version}' of model '${model}': a version is a positive integer`,
  );
}
