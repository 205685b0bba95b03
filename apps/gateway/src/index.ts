/**
 * @sibyl/gateway: the public edge as a library. The apps compose these servers; each is a thin
 * adapter over one InferenceService (the v2 data plane).
 */
export { createRestServer, DEFAULT_BODY_LIMIT_BYTES, type RestServerOptions } from './rest-server.js';
export { REQUEST_ID_HEADER } from './rest-handler.js';
export { TIMEOUT_HEADER } from './rest-context.js';
export {
  createGrpcServer,
  DEFAULT_MAX_MESSAGE_BYTES,
  type GrpcServerHandle,
  type GrpcServerOptions,
} from './grpc-server.js';
export { createMetricsServer, type MetricsRegistry, type MetricsServerOptions } from './metrics-server.js';
export { SERVER_EXTENSIONS } from './server-extensions.js';
export { MODEL_NAME_RULE, MODEL_VERSION_RULE } from '@sibyl/protocol';
export * from './errors.js';
