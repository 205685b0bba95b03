// Original file: sibyl/router/v1/router.proto

import type { VersionRoute as _sibyl_router_v1_VersionRoute, VersionRoute__Output as _sibyl_router_v1_VersionRoute__Output } from '../../../sibyl/router/v1/VersionRoute.js';

export interface CanaryRoute {
  'route'?: (_sibyl_router_v1_VersionRoute | null);
  'weight'?: (number | string);
}

export interface CanaryRoute__Output {
  'route'?: (_sibyl_router_v1_VersionRoute__Output);
  'weight'?: (number);
}
