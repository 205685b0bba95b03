/**
 * @sibyl/backends: the instances that run models, as the gateway sees them: v2 clients over HTTP
 * (binary extension) and gRPC, for Sibyl workers and Triton alike, and the in-process data plane.
 */
export type { Backend, BackendTransport } from './backend.js';
export { createHttpBackend, DEFAULT_BACKEND_TIMEOUT_MS, DEFAULT_HTTP_MAX_SOCKETS, type HttpBackendOptions } from './http-backend.js';
export { createGrpcBackend, DEFAULT_GRPC_MAX_MESSAGE_BYTES, type GrpcBackendOptions } from './grpc-backend.js';
export { createInProcessBackend } from './in-process-backend.js';
export { createBackendPool, type BackendPool, type BackendPoolOptions } from './backend-pool.js';
export { notDelivered, NOT_READY_CODES } from './remote-error.js';
export { TIMEOUT_HEADER } from './http-exchange.js';
export * from './errors.js';
