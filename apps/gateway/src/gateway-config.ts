/**
 * The gateway app's settings (`sibyl gateway`): the public v2 listeners, and the router it asks.
 */
import { COMMON_SETTINGS, defineSettings, readSettings, renderHelp, type Settings } from '@sibyl/settings';

export const GATEWAY_SETTINGS = defineSettings({
  httpAddress: COMMON_SETTINGS.httpAddress,
  httpPort: COMMON_SETTINGS.httpPort,
  grpcAddress: COMMON_SETTINGS.grpcAddress,
  grpcPort: COMMON_SETTINGS.grpcPort,
  metricsAddress: COMMON_SETTINGS.metricsAddress,
  metricsPort: COMMON_SETTINGS.metricsPort,
  allowHttp: { flag: 'allow-http', env: 'SIBYL_ALLOW_HTTP', kind: 'bool', help: 'Serve the REST API', default: 'true' },
  allowGrpc: { flag: 'allow-grpc', env: 'SIBYL_ALLOW_GRPC', kind: 'bool', help: 'Serve the gRPC API', default: 'true' },
  allowMetrics: { flag: 'allow-metrics', env: 'SIBYL_ALLOW_METRICS', kind: 'bool', help: 'Serve Prometheus metrics', default: 'true' },
  routerAddress: { flag: 'router-address', env: 'SIBYL_ROUTER_ADDRESS', kind: 'address', help: 'host:port of the router (sibyl router) the gateway asks for routes', default: '127.0.0.1:8004' },
  shadowMaxInflight: { flag: 'shadow-max-inflight', env: 'SIBYL_SHADOW_MAX_INFLIGHT', kind: 'int', min: 0, help: 'Shadow copies in flight at most; more are dropped and counted', default: '64' },
  maxRequestBytes: COMMON_SETTINGS.maxRequestBytes,
  logVerbose: COMMON_SETTINGS.logVerbose,
  logFormat: COMMON_SETTINGS.logFormat,
  exitTimeoutSecs: COMMON_SETTINGS.exitTimeoutSecs,
});

export type GatewayConfig = Settings<typeof GATEWAY_SETTINGS>;

export function loadGatewayConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return readSettings(GATEWAY_SETTINGS, argv, env);
}

export function gatewayHelp(): string {
  return renderHelp(GATEWAY_SETTINGS, 'Usage: sibyl gateway [flags]\n\nThe public edge: v2 REST and gRPC, forwarding each request on the route the router gives.');
}
