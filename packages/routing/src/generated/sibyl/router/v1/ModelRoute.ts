// Original file: sibyl/router/v1/router.proto

import type { VersionRoute as _sibyl_router_v1_VersionRoute, VersionRoute__Output as _sibyl_router_v1_VersionRoute__Output } from '../../../sibyl/router/v1/VersionRoute.js';
import type { CanaryRoute as _sibyl_router_v1_CanaryRoute, CanaryRoute__Output as _sibyl_router_v1_CanaryRoute__Output } from '../../../sibyl/router/v1/CanaryRoute.js';
import type { Long } from '@grpc/proto-loader';

export interface ModelRoute {
  'model'?: (string);
  'live'?: (_sibyl_router_v1_VersionRoute | null);
  'canary'?: (_sibyl_router_v1_CanaryRoute | null);
  'shadow'?: (_sibyl_router_v1_VersionRoute | null);
  'generation'?: (number | string | Long);
}

export interface ModelRoute__Output {
  'model'?: (string);
  'live'?: (_sibyl_router_v1_VersionRoute__Output);
  'canary'?: (_sibyl_router_v1_CanaryRoute__Output);
  'shadow'?: (_sibyl_router_v1_VersionRoute__Output);
  'generation'?: (string);
}
