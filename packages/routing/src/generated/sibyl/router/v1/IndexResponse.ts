// Original file: sibyl/router/v1/router.proto

import type { ModelIndexEntry as _sibyl_router_v1_ModelIndexEntry, ModelIndexEntry__Output as _sibyl_router_v1_ModelIndexEntry__Output } from '../../../sibyl/router/v1/ModelIndexEntry.js';

export interface IndexResponse {
  'models'?: (_sibyl_router_v1_ModelIndexEntry)[];
}

export interface IndexResponse__Output {
  'models': (_sibyl_router_v1_ModelIndexEntry__Output)[];
}
