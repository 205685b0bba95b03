/**
 * The management app (`sibyl management`) of the split topology: the management REST API and the
 * artifact file server workers fetch model files from, over the registry in PostgreSQL. It runs no
 * models: Triton's repository load and unload become deploy and undeploy (registry-serving.ts), and
 * workers load on demand.
 *
 * PostgreSQL down: every registry call answers 503 with the database error; readiness stays true
 * (the artifact file server keeps serving workers) and says `registry: down`; the process answers
 * again once the database is back.
 */
import { join } from 'node:path';
import { createArtifactStore } from '@sibyl/artifacts';
import { createShutdownSteps, startEdgeListeners, withinGrace, type RunningApp } from '@sibyl/gateway';
import { createLogger, createMetrics, type Logger } from '@sibyl/observability';
import { openRegistry } from '@sibyl/registry';
import { createRegistrySource, inspectModel, onnxEngine } from '@sibyl/runtime';
import { createTfEngine } from '@sibyl/runtime-tf';
import type { ManagementConfig } from './management-config.js';
import { createManagementServer } from './management-server.js';
import { createRegistryServing } from './registry-serving.js';
import { PACKAGE_VERSION } from './server-options.js';

export interface RunningManagement extends RunningApp {
  readonly logger: Logger;
  readonly ports: { management: number; metrics?: number };
}

export async function startManagementApp(config: ManagementConfig, logger?: Logger): Promise<RunningManagement> {
  const startedAt = performance.now();
  const log = logger ?? createLogger({ verbose: config.logVerbose, format: config.logFormat });
  const metrics = createMetrics();
  const listeners = createShutdownSteps(log);
  const resources = createShutdownSteps(log);
  const release = async () => {
    await listeners.runTogether();
    await resources.run();
  };
  try {
    const registry = await openRegistry({ databaseUrl: config.databaseUrl, actor: 'management' });
    resources.add(() => registry.close());
    const migrated = registry.migration.applied.map((m) => `${m.version} ${m.name}`);
    log.info(
      { event: 'registry', schemaVersion: registry.migration.schemaVersion, migrated },
      `registry: schema version ${registry.migration.schemaVersion}` + (migrated.length === 0 ? '' : ` (applied ${migrated.join(', ')})`),
    );
    const artifacts = await createArtifactStore({ dir: join(config.dataDir, 'artifacts') });
    let draining = false;
    // Uploads and imports are checked by loading them: ONNX files in onnxruntime, TF.js models in TensorFlow.js.
    const engines = [onnxEngine, createTfEngine()];
    const server = createManagementServer({
      registry,
      store: artifacts,
      inspectModel: (path, modelConfig, options) => inspectModel(path, modelConfig, { ...options, engines }),
      logger: log,
      serving: createRegistryServing({ registry, artifacts, engines, ready: async () => !draining }),
      serverVersion: PACKAGE_VERSION,
    });
    await server.listen({ host: config.managementAddress, port: config.managementPort });
    const port = (server.server.address() as { port: number }).port;
    log.info({ listener: 'management', address: config.managementAddress, port }, `management API listening on ${config.managementAddress}:${port}`);
    listeners.add(() => server.close());
    const edge = await startEdgeListeners({
      logger: log,
      metrics,
      ...(config.allowMetrics ? { metricsListener: { address: config.metricsAddress, port: config.metricsPort } } : {}),
    });
    listeners.add(() => edge.close(0));

    const repositories = config.modelRepositories ?? [];
    if (repositories.length > 0) {
      const source = createRegistrySource({ registry, artifacts, logger: log, repositories, engines });
      const imported = await source.importRepositories();
      await source.close();
      log.info(
        { event: 'import', models: imported.models, registered: imported.registered, deployed: imported.deployed },
        `model repositories: ${imported.models} model(s), ${imported.registered} new version(s) registered`,
      );
    }
    const ports: { management: number; metrics?: number } = { management: port };
    if (edge.ports.metrics !== undefined) ports.metrics = edge.ports.metrics;
    const readyMs = Math.round(performance.now() - startedAt);
    log.info({ event: 'ready', readyMs }, `management ${PACKAGE_VERSION} ready in ${readyMs} ms`);
    const graceMs = config.exitTimeoutSecs * 1000;
    let closing: Promise<void> | undefined;
    return {
      logger: log,
      ports,
      close() {
        closing ??= (async () => {
          draining = true;
          log.info({ event: 'shutdown', graceMs }, `shutting down: finishing in-flight requests (up to ${config.exitTimeoutSecs} s)`);
          if ((await withinGrace(graceMs, listeners.runTogether())) === 'timeout') {
            log.warn({ event: 'shutdown' }, 'exit timeout reached with requests still in flight');
          }
          await release();
          log.info({ event: 'stopped' }, 'stopped');
        })();
        return closing;
      },
    };
  } catch (err) {
    await release();
    throw err;
  }
}
