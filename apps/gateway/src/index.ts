/**
 * @sibyl/gateway: the public edge as a library. The apps compose these servers; each is a thin
 * adapter over one InferenceService (the v2 data plane).
 */
export { createRestServer, DEFAULT_BODY_LIMIT_BYTES, type RestServerOptions } from './rest-server.js';
export { REQUEST_ID_HEADER } from './rest-handler.js';
export { TIMEOUT_HEADER } from './rest-context.js';
export { ROUTING_KEY_HEADER } from './edge-context.js';
export {
  createGrpcServer,
  DEFAULT_MAX_MESSAGE_BYTES,
  type GrpcServerHandle,
  type GrpcServerOptions,
} from './grpc-server.js';
export { createMetricsServer, type MetricsRegistry, type MetricsServerOptions } from './metrics-server.js';
export { edgeExtensions, MODEL_CONFIGURATION_EXTENSION, SERVER_EXTENSIONS, STATISTICS_EXTENSION } from './server-extensions.js';
export { drainable } from './drainable.js';
export { GATEWAY_SETTINGS, gatewayHelp, loadGatewayConfig, type GatewayConfig } from './gateway-config.js';
export { startGatewayApp, GATEWAY_VERSION, type RunningGateway } from './gateway-app.js';
export { exportRoutedMetrics, shadowRecorder } from './routed-metrics.js';
export { createShutdownSteps, type ShutdownSteps } from './shutdown-steps.js';
export { runMain, withinGrace, type MainOptions, type RunningApp } from './run-main.js';
export { startEdgeListeners, type EdgeListeners, type EdgeListenersOptions, type ListenerAddress } from './edge-listeners.js';
export { MODEL_NAME_RULE, MODEL_VERSION_RULE } from '@sibyl/protocol';
export * from './errors.js';
