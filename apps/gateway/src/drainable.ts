import { serverDraining, type InferContext, type InferenceService, type InferRequest, type RestInferBody } from '@sibyl/protocol';

/**
 * The service as a server that is shutting down shows it: from `drain()` on, readiness is false (so
 * load balancers and probes stop sending work) and new inference, metadata, configuration and
 * readiness calls are refused with SIBYL_SERVER_DRAINING (503 / UNAVAILABLE; a gateway retries it on
 * another instance, since the request never ran). Calls already running finish. Everything else is the service's own.
 */
export function drainable<S extends InferenceService>(service: S): S & { drain(): void; readonly draining: boolean } {
  let draining = false;
  const wrapped = Object.create(service) as S & { drain(): void; readonly draining: boolean };
  Object.defineProperties(wrapped, {
    serverReady: { value: async () => !draining && (await service.serverReady()) },
    infer: {
      value: (request: InferRequest, context?: InferContext) =>
        draining ? Promise.reject(serverDraining(`model '${request.modelName}'`)) : service.infer(request, context),
    },
    forwardRestInfer: {
      value:
        service.forwardRestInfer === undefined
          ? undefined
          : (request: RestInferBody, context?: InferContext) =>
              draining ? Promise.reject(serverDraining(`model '${request.modelName}'`)) : service.forwardRestInfer!(request, context),
    },
    modelMetadata: {
      value: (name: string, version?: string) =>
        draining ? Promise.reject(serverDraining(`model '${name}'`)) : service.modelMetadata(name, version),
    },
    modelConfig: {
      value:
        service.modelConfig === undefined
          ? undefined
          : (name: string, version?: string) => (draining ? Promise.reject(serverDraining(`model '${name}'`)) : service.modelConfig!(name, version)),
    },
    modelReady: {
      value: (name: string, version?: string) => (draining ? Promise.resolve(false) : service.modelReady(name, version)),
    },
    drain: {
      value: () => {
        draining = true;
      },
    },
    draining: { get: () => draining },
  });
  return wrapped;
}
