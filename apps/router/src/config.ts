/**
 * The router app's settings (`sibyl router`): where gateways reach it, the registry it reads and
 * the coordination it watches for live worker instances.
 */
import { COMMON_SETTINGS, defineSettings, readSettings, renderHelp, type Settings } from '@sibyl/settings';

export const ROUTER_SETTINGS = defineSettings({
  grpcAddress: { ...COMMON_SETTINGS.grpcAddress, help: 'Address of the router gRPC listener (gateways connect here)' },
  grpcPort: { ...COMMON_SETTINGS.grpcPort, help: 'Router gRPC port; 0 picks a free port', default: '8004' },
  metricsAddress: COMMON_SETTINGS.metricsAddress,
  metricsPort: COMMON_SETTINGS.metricsPort,
  allowMetrics: { flag: 'allow-metrics', env: 'SIBYL_ALLOW_METRICS', kind: 'bool', help: 'Serve Prometheus metrics', default: 'true' },
  databaseUrl: { ...COMMON_SETTINGS.databaseUrl, required: true, help: 'PostgreSQL URL of the registry (also read from DATABASE_URL); required', shownDefault: 'none (required)' },
  redisUrl: COMMON_SETTINGS.redisUrl,
  redisKeyPrefix: COMMON_SETTINGS.redisKeyPrefix,
  transport: {
    flag: 'worker-transport',
    env: 'SIBYL_WORKER_TRANSPORT',
    kind: 'enum',
    choices: ['http', 'grpc'],
    help: 'Which v2 listener of a worker the gateways connect to: http (binary extension) or grpc',
    default: 'http',
  },
  logVerbose: COMMON_SETTINGS.logVerbose,
  logFormat: COMMON_SETTINGS.logFormat,
  exitTimeoutSecs: COMMON_SETTINGS.exitTimeoutSecs,
});

export type RouterConfig = Settings<typeof ROUTER_SETTINGS>;

export function loadRouterConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): RouterConfig {
  return readSettings(ROUTER_SETTINGS, argv, env);
}

export function routerHelp(): string {
  return renderHelp(ROUTER_SETTINGS, 'Usage: sibyl router [flags]\n\nThe router: resolves routes for gateways from the registry and the live worker instances.');
}
