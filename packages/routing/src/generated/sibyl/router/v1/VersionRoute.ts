// Original file: sibyl/router/v1/router.proto

import type { PoolKind as _sibyl_router_v1_PoolKind, PoolKind__Output as _sibyl_router_v1_PoolKind__Output } from '../../../sibyl/router/v1/PoolKind.js';
import type { RouteTarget as _sibyl_router_v1_RouteTarget, RouteTarget__Output as _sibyl_router_v1_RouteTarget__Output } from '../../../sibyl/router/v1/RouteTarget.js';
import type { Long } from '@grpc/proto-loader';

export interface VersionRoute {
  'model'?: (string);
  'version'?: (number);
  'pool'?: (string);
  'kind'?: (_sibyl_router_v1_PoolKind);
  'rule_id'?: (number | string | Long);
  'replicas'?: (number);
  'targets'?: (_sibyl_router_v1_RouteTarget)[];
}

export interface VersionRoute__Output {
  'model'?: (string);
  'version'?: (number);
  'pool'?: (string);
  'kind'?: (_sibyl_router_v1_PoolKind__Output);
  'rule_id'?: (string);
  'replicas'?: (number);
  'targets': (_sibyl_router_v1_RouteTarget__Output)[];
}
