/**
 * The router service and gRPC health, loaded from protos/ with the loader options every Sibyl gRPC
 * server and client uses (the generated types in ./generated assume them).
 */
import { loadPackageDefinition, type ServiceClientConstructor, type ServiceDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { HEALTH_PROTO, PROTOS_DIR, PROTO_LOADER_OPTIONS } from '@sibyl/protocol';

export const ROUTER_PROTO = 'sibyl/router/v1/router.proto';
/** The full service name, as a health check names it. */
export const ROUTER_SERVICE_NAME = 'sibyl.router.v1.Router';

interface RouterDefinitions {
  router: ServiceClientConstructor;
  health: ServiceDefinition;
}

let definitions: RouterDefinitions | undefined;

/** Parsing the protos takes tens of milliseconds: done once per process. */
export function routerDefinitions(): RouterDefinitions {
  if (definitions === undefined) {
    const loaded = loadPackageDefinition(
      loadSync([ROUTER_PROTO, HEALTH_PROTO], { ...PROTO_LOADER_OPTIONS, includeDirs: [PROTOS_DIR] }),
    ) as unknown as {
      sibyl: { router: { v1: { Router: ServiceClientConstructor } } };
      grpc: { health: { v1: { Health: { service: ServiceDefinition } } } };
    };
    definitions = { router: loaded.sibyl.router.v1.Router, health: loaded.grpc.health.v1.Health.service };
  }
  return definitions;
}
