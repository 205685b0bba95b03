/**
 * The management app's settings (`sibyl management`): the management REST API with the artifact
 * file server, over the registry in PostgreSQL.
 */
import { COMMON_SETTINGS, defineSettings, readSettings, renderHelp, type Settings } from '@sibyl/settings';

export const MANAGEMENT_SETTINGS = defineSettings({
  managementAddress: {
    flag: 'management-address',
    env: 'SIBYL_MANAGEMENT_ADDRESS',
    kind: 'string',
    help: 'Address of the management API listener (0.0.0.0 in a cluster, where workers fetch model files from it)',
    default: '127.0.0.1',
  },
  managementPort: { flag: 'management-port', env: 'SIBYL_MANAGEMENT_PORT', kind: 'port', help: 'Management API port; 0 picks a free port', default: '8003' },
  metricsAddress: COMMON_SETTINGS.metricsAddress,
  metricsPort: COMMON_SETTINGS.metricsPort,
  allowMetrics: { flag: 'allow-metrics', env: 'SIBYL_ALLOW_METRICS', kind: 'bool', help: 'Serve Prometheus metrics', default: 'true' },
  databaseUrl: { ...COMMON_SETTINGS.databaseUrl, required: true, help: 'PostgreSQL URL of the registry (also read from DATABASE_URL); required', shownDefault: 'none (required)' },
  dataDir: { flag: 'data-dir', env: 'SIBYL_DATA_DIR', kind: 'path', help: 'Directory of the artifact store (model files, served to workers)', default: './.sibyl/management' },
  modelRepositories: {
    flag: 'model-repository',
    env: 'SIBYL_MODEL_REPOSITORY',
    kind: 'paths',
    optional: true,
    help: 'Model repository directory imported into the registry at start (repeatable); none by default',
    default: '',
    shownDefault: 'none',
  },
  logVerbose: COMMON_SETTINGS.logVerbose,
  logFormat: COMMON_SETTINGS.logFormat,
  exitTimeoutSecs: COMMON_SETTINGS.exitTimeoutSecs,
});

export type ManagementConfig = Settings<typeof MANAGEMENT_SETTINGS>;

export function loadManagementConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ManagementConfig {
  return readSettings(MANAGEMENT_SETTINGS, argv, env);
}

export function managementHelp(): string {
  return renderHelp(MANAGEMENT_SETTINGS, 'Usage: sibyl management [flags]\n\nThe management API: register, upload, release, route; the model file server for workers.');
}
