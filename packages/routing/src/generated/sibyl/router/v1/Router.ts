// Original file: sibyl/router/v1/router.proto

import type { MethodDefinition } from '@grpc/proto-loader'
import type { IndexRequest as _sibyl_router_v1_IndexRequest, IndexRequest__Output as _sibyl_router_v1_IndexRequest__Output } from '../../../sibyl/router/v1/IndexRequest.js';
import type { IndexResponse as _sibyl_router_v1_IndexResponse, IndexResponse__Output as _sibyl_router_v1_IndexResponse__Output } from '../../../sibyl/router/v1/IndexResponse.js';
import type { Invalidation as _sibyl_router_v1_Invalidation, Invalidation__Output as _sibyl_router_v1_Invalidation__Output } from '../../../sibyl/router/v1/Invalidation.js';
import type { ModelRoute as _sibyl_router_v1_ModelRoute, ModelRoute__Output as _sibyl_router_v1_ModelRoute__Output } from '../../../sibyl/router/v1/ModelRoute.js';
import type { ResolveModelRequest as _sibyl_router_v1_ResolveModelRequest, ResolveModelRequest__Output as _sibyl_router_v1_ResolveModelRequest__Output } from '../../../sibyl/router/v1/ResolveModelRequest.js';
import type { ResolveVersionRequest as _sibyl_router_v1_ResolveVersionRequest, ResolveVersionRequest__Output as _sibyl_router_v1_ResolveVersionRequest__Output } from '../../../sibyl/router/v1/ResolveVersionRequest.js';
import type { VersionRoute as _sibyl_router_v1_VersionRoute, VersionRoute__Output as _sibyl_router_v1_VersionRoute__Output } from '../../../sibyl/router/v1/VersionRoute.js';
import type { WatchRequest as _sibyl_router_v1_WatchRequest, WatchRequest__Output as _sibyl_router_v1_WatchRequest__Output } from '../../../sibyl/router/v1/WatchRequest.js';

export interface RouterDefinition {
  Index: MethodDefinition<_sibyl_router_v1_IndexRequest, _sibyl_router_v1_IndexResponse, _sibyl_router_v1_IndexRequest__Output, _sibyl_router_v1_IndexResponse__Output>
  ResolveModel: MethodDefinition<_sibyl_router_v1_ResolveModelRequest, _sibyl_router_v1_ModelRoute, _sibyl_router_v1_ResolveModelRequest__Output, _sibyl_router_v1_ModelRoute__Output>
  ResolveVersion: MethodDefinition<_sibyl_router_v1_ResolveVersionRequest, _sibyl_router_v1_VersionRoute, _sibyl_router_v1_ResolveVersionRequest__Output, _sibyl_router_v1_VersionRoute__Output>
  Watch: MethodDefinition<_sibyl_router_v1_WatchRequest, _sibyl_router_v1_Invalidation, _sibyl_router_v1_WatchRequest__Output, _sibyl_router_v1_Invalidation__Output>
}
