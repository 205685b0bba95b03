/**
 * @sibyl/routing: where a request goes. Routing rules matched on a model version's metadata, the
 * traffic split (live, canary, shadow), cache-affine placement over live instances (rendezvous
 * hashing), the router (in-process, and its gRPC server and client), and the gateway's routed data
 * plane with its route cache.
 */
export type { ModelRoute, RouteInvalidation, RouteTarget, VersionRoute } from './route.js';
export type { Router } from './router.js';
export { rendezvousOrder, rendezvousScore } from './rendezvous.js';
export { chooseVersion, splitPoint } from './traffic-split.js';
export {
  instanceAddress,
  placementReplicas,
  placeVersion,
  type InstanceTransport,
  type Placement,
  type PlaceOptions,
} from './placement.js';
export { createRouter, type CreateRouterOptions, type RouterRegistry } from './create-router.js';
export { createRouterServer, type RouterServer, type RouterServerOptions } from './create-router-server.js';
export { createRouterClient, type RouterClientOptions } from './create-router-client.js';
export { ROUTER_PROTO, ROUTER_SERVICE_NAME } from './router-definitions.js';
export * from './errors.js';
export { createRouteCache, type RouteCache, type RouteCacheOptions, type RouteCacheStats } from './route-cache.js';
export {
  createRoutedInferenceService,
  type RoutedInferenceService,
  type RoutedInferenceServiceOptions,
  type RoutedServiceStats,
} from './routed-inference-service.js';
export type { BackendLookup } from './instance-choice.js';
export type { ShadowOptions, ShadowResult, ShadowStats } from './shadow-traffic.js';
export { poolNoInstance } from './data-plane-errors.js';
