/**
 * The shapes of the server's answers, as the management API and the Open Inference Protocol define
 * them (snake_case, as on the wire). The CLI only reads them to draw tables: with `--output json` it
 * prints the answer as received, so a field added by the server reaches scripts unchanged.
 */

export type VersionState = 'registered' | 'loading' | 'ready' | 'failed' | 'retired';

export interface Model {
  name: string;
  tenant?: string | null;
  platform?: string | null;
  algorithm?: string | null;
  description?: string | null;
  labels?: Record<string, string> | null;
  live_version: number | null;
  previous_version: number | null;
  created_at?: string;
  updated_at?: string;
}

export interface TensorSpec {
  name: string;
  datatype: string;
  /** -1 marks a variable dimension. */
  shape: number[];
}

export interface Signature {
  platform?: string;
  inputs?: TensorSpec[];
  outputs?: TensorSpec[];
}

export interface Version {
  model: string;
  version: number;
  sha256: string;
  size: number;
  filename?: string;
  format?: string;
  state: VersionState | string;
  state_reason?: string | null;
  signature?: Signature | null;
  created_by?: string;
  created_at?: string;
}

export interface Release {
  model: string;
  live_version: number | null;
  previous_version: number | null;
}

export interface AuditEvent {
  id: number | string;
  at: string;
  actor: string;
  action: string;
  model?: string;
  from?: unknown;
  to?: unknown;
  detail?: unknown;
}

export interface Pool {
  name: string;
  kind: string;
  endpoints?: string[] | null;
  discovery?: boolean;
  description?: string | null;
  created_at?: string;
  updated_at?: string;
}

export interface RouteMatch {
  platform?: string;
  algorithm?: string;
  name?: string;
  tenant?: string;
  labels?: Record<string, string>;
}

export interface Route {
  id: number;
  priority: number;
  pool: string;
  match?: RouteMatch | null;
  description?: string | null;
  created_at?: string;
  updated_at?: string;
}

/** GET /v1/routes/explain/{model}. */
export interface RouteExplanation {
  model: string;
  version: number;
  facts?: Record<string, unknown>;
  route: Route | null;
  pool: string | null;
  rules: Array<{ route: Route; matched: boolean; reasons: string[] }>;
}

export interface Traffic {
  model: string;
  live_version: number | null;
  canary_version: number | null;
  canary_weight: number;
  shadow_version: number | null;
}

/** GET /v2/models/{name}. */
export interface ModelMetadata {
  name: string;
  versions?: string[];
  platform?: string;
  inputs: TensorSpec[];
  outputs?: TensorSpec[];
}

export interface InferTensor {
  name: string;
  datatype: string;
  shape: number[];
  data: unknown[];
  parameters?: Record<string, unknown>;
}

export interface InferResponse {
  model_name: string;
  model_version?: string;
  id?: string;
  outputs: InferTensor[];
}
