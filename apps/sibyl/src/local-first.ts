/**
 * The all-in-one's data plane: the routed service, with the in-process runtime answering what the
 * registry cannot know. The repositories' import problems (a model directory that did not import
 * has no registry row) and the runtime's own states and reasons live in the runtime, so:
 *
 * - a model the router does not find, or finds with nothing live, is asked of the runtime, which
 *   answers with its precise error (the same messages as without routing) or serves it;
 * - a request without a version whose routed version is still loading is served by the runtime's
 *   live pointer (the version live before), so a release never fails a request;
 * - the repository index is the runtime's (every model it knows, with its load state and reason);
 * - model statistics are the runtime's: it runs every model this process serves. Requests the router
 *   sends to other pools (Triton, remote workers) are counted there, not here.
 *
 * Everything the registry routes (live versions, canaries, shadows, other pools) goes through the
 * router as in the split topology.
 */
import { isSibylError, type InferContext, type InferenceService, type InferRequest, type RestInferBody } from '@sibyl/protocol';

/** Router answers that mean "ask the runtime": it has no route, and the runtime may know why. */
function runtimeKnowsBetter(err: unknown): boolean {
  return isSibylError(err) && (err.category === 'NOT_FOUND' || err.code === 'SIBYL_ROUTE_MODEL_NOT_LIVE');
}

/**
 * The version the router chose for a request without a version is not ready in the runtime yet: it
 * was just deployed and is still loading. The runtime's own live pointer moves only once it is READY,
 * so asking it without a version serves the version live before, as without routing.
 */
function stillLoading(err: unknown, request: Pick<InferRequest, 'modelVersion'>): boolean {
  return isSibylError(err) && err.code === 'SIBYL_MODEL_NOT_READY' && (request.modelVersion === undefined || request.modelVersion === '');
}

export function localFirst<S extends InferenceService>(
  routed: S & Required<Pick<InferenceService, 'modelConfig'>>,
  local: InferenceService & Required<Pick<InferenceService, 'modelStatistics' | 'modelConfig'>>,
): S {
  const wrapped = Object.create(routed) as S;
  return Object.assign(wrapped, {
    infer: (request, context) =>
      routed.infer(request, context).catch((err: unknown) => {
        if (runtimeKnowsBetter(err) || stillLoading(err, request)) return local.infer(request, context);
        throw err;
      }),
    // A pass-through that infer() would hand to the runtime resolves undefined: the edge then decodes
    // the request and calls infer(), which does.
    ...(routed.forwardRestInfer === undefined
      ? {}
      : {
          forwardRestInfer: (request: RestInferBody, context?: InferContext) =>
            routed.forwardRestInfer!(request, context).catch((err: unknown) => {
              if (runtimeKnowsBetter(err) || stillLoading(err, request)) return undefined;
              throw err;
            }),
        }),
    modelMetadata: (name, version) =>
      routed.modelMetadata(name, version).catch((err: unknown) => {
        if (runtimeKnowsBetter(err)) return local.modelMetadata(name, version);
        throw err;
      }),
    modelConfig: (name: string, version?: string) =>
      routed.modelConfig(name, version).catch((err: unknown) => {
        if (runtimeKnowsBetter(err)) return local.modelConfig(name, version);
        throw err;
      }),
    modelReady: (name, version) =>
      routed.modelReady(name, version).catch((err: unknown) => {
        if (runtimeKnowsBetter(err)) return local.modelReady(name, version);
        throw err;
      }),
    repositoryIndex: () => local.repositoryIndex(),
    // The name, version and extensions are the routed service's; the runtimes are this process's.
    serverMetadata: async () => ({ ...(await routed.serverMetadata()), runtimes: (await local.serverMetadata()).runtimes ?? [] }),
    modelStatistics: (name, version) => local.modelStatistics(name, version),
  } satisfies Partial<InferenceService>);
}
