/**
 * The in-process Backend: the data plane of this process (packages/runtime), called directly. It
 * forwards every call unchanged and counts what is in flight; errors are the service's own.
 */
import { modelConfigUnsupported, type InferContext, type InferenceService, type InferRequest, type InferResponse } from '@sibyl/protocol';
import type { Backend } from './backend.js';

export function createInProcessBackend(service: InferenceService): Backend {
  let inflight = 0;
  // One reaction on the call's promise (finally() would chain three): this wraps every request of
  // the all-in-one.
  const settled = <T>(value: T): T => {
    inflight--;
    return value;
  };
  const failed = (err: unknown): never => {
    inflight--;
    throw err;
  };
  const counted = <T>(run: () => Promise<T>): Promise<T> => {
    inflight++;
    let pending: Promise<T>;
    try {
      pending = run();
    } catch (err) {
      inflight--;
      return Promise.reject(err);
    }
    return pending.then(settled, failed);
  };
  return {
    target: 'in-process',
    transport: 'in-process',
    get inflight() {
      return inflight;
    },
    serverLive: () => counted(() => service.serverLive()),
    serverReady: () => counted(() => service.serverReady()),
    serverMetadata: () => counted(() => service.serverMetadata()),
    modelMetadata: (name: string, version?: string) => counted(() => service.modelMetadata(name, version)),
    modelReady: (name: string, version?: string) => counted(() => service.modelReady(name, version)),
    modelConfig: (name: string, version?: string) =>
      service.modelConfig === undefined ? Promise.reject(modelConfigUnsupported(name)) : counted(() => service.modelConfig!(name, version)),
    infer: (request: InferRequest, context?: InferContext): Promise<InferResponse> => counted(() => service.infer(request, context)),
    repositoryIndex: () => counted(() => service.repositoryIndex()),
    // The service belongs to whoever created it: closing the backend leaves it running.
    close: async () => {},
  };
}
