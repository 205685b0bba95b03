/**
 * @sibyl/management: the management REST API as a library. An app builds it over a registry, an
 * artifact store and the runtime's model check, and listens with it on --management-port.
 */
export { createManagementServer, JSON_BODY_LIMIT_BYTES } from './management-server.js';
export { loadManagementConfig, managementHelp, MANAGEMENT_SETTINGS, type ManagementConfig } from './management-config.js';
export { startManagementApp, type RunningManagement } from './management-app.js';
export { versionWithConfig } from './config-version.js';
export { createRegistryServing, type RegistryServingOptions } from './registry-serving.js';
export type {
  InspectModel,
  InspectedModel,
  InspectModelOptions,
  ManagementServerOptions,
  ManagementServing,
  RepositoryIndexEntry,
  ServingLoadRequest,
  ServingUnloadRequest,
} from './server-options.js';
export { ACTOR_HEADER, ANONYMOUS_ACTOR } from './actor.js';
export { DOCS_PREFIX } from './openapi.js';
export type { WireEvent, WireModel, WireRelease, WireSignature, WireVersion } from './wire.js';
export * from './errors.js';
