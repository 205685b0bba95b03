/**
 * The router's coded errors. A model or version that does not exist is NOT_FOUND (the registry's own
 * SIBYL_REGISTRY_MODEL_NOT_FOUND and SIBYL_REGISTRY_VERSION_NOT_FOUND pass through unchanged); a model
 * that exists but cannot be served now is UNAVAILABLE (503), as Triton answers for a model that is
 * not ready.
 */
import { defineError } from '@sibyl/protocol';
import { describeFacts, type VersionFacts } from '@sibyl/registry';

export const routeNoMatch = defineError(
  'SIBYL_ROUTE_NO_MATCH',
  'UNAVAILABLE',
  'No routing rule matches the metadata of the model version, so no backend pool can serve it.',
  (facts: VersionFacts, rules: number) =>
    `no routing rule matches ${describeFacts(facts)}; ${rules === 0 ? 'there are no routing rules' : `none of the ${rules} routing rules does`}: add or change a rule to route it`,
);

export const routePoolMissing = defineError(
  'SIBYL_ROUTE_POOL_MISSING',
  'UNAVAILABLE',
  'The routing rule that matches a model version names a backend pool the router does not know.',
  (model: string, version: number, ruleId: number, pool: string) =>
    `routing rule ${ruleId} sends model '${model}' version ${version} to pool '${pool}', which does not exist`,
);

export const routeVersionRetired = defineError(
  'SIBYL_ROUTE_VERSION_RETIRED',
  'NOT_FOUND',
  'A request names a version that was retired: it is never served again.',
  (model: string, version: number) => `version ${version} of model '${model}' is retired and is no longer served`,
);

export const modelNotLive = defineError(
  'SIBYL_ROUTE_MODEL_NOT_LIVE',
  'UNAVAILABLE',
  'A request without a version reached a model that has no live version (none deployed, or undeployed).',
  (model: string) =>
    `model '${model}' has no live version; deploy one, or name a version in the request`,
);

export const registryUnreachable = defineError(
  'SIBYL_ROUTE_REGISTRY_UNAVAILABLE',
  'UNAVAILABLE',
  'The router cannot read the registry and has no earlier answer for this model to serve instead.',
  (detail: string) => `the router cannot read the registry: ${detail}`,
);

export const routerUnavailable = defineError(
  'SIBYL_ROUTER_UNAVAILABLE',
  'UNAVAILABLE',
  'The router service cannot be reached (split mode: the gateway resolves routes over gRPC).',
  (address: string, detail: string) => `router at ${address} is unavailable: ${detail}`,
);

export const routerFailed = defineError(
  'SIBYL_ROUTER_FAILED',
  'INTERNAL',
  'The router service answered with an error that carries no Sibyl error code, or with a malformed message.',
  (address: string, detail: string) => `router at ${address} failed: ${detail}`,
);

export const routerHealthServiceUnknown = defineError(
  'SIBYL_ROUTER_HEALTH_SERVICE_UNKNOWN',
  'NOT_FOUND',
  'A gRPC health check to the router names a service it does not serve.',
  (service: string, served: string) => `unknown service '${service}' for health check; use '' or '${served}'`,
);
