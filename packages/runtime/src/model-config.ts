/**
 * A model's config.json: Triton's model configuration (model_config.proto) in its JSON form, with
 * Triton's field names. Parsed and validated here, field by field; each error names the field and
 * says why. Triton fields this runtime does not implement yet are accepted with a warning; field
 * names Triton does not have are rejected.
 *
 * What a config leaves out is completed per version from the model file (model-signature.ts), as
 * Triton's auto-complete does.
 */
import {
  arrayAt,
  booleanAt,
  checkFields,
  fail,
  integerAt,
  objectAt,
  stringAt,
  type ConfigContext,
  type ConfigWarning,
  type JsonObject,
} from './config-reader.js';
import { datatypeOfTriton } from './datatype-mapping.js';
import { KNOWN_BACKENDS, KNOWN_PLATFORMS } from './model-engine.js';
import { parseModelWarmup, type WarmupSample } from './model-warmup.js';
import type { SessionThreads } from './session-settings.js';

export const PLATFORM = 'onnxruntime_onnx';
export const BACKEND = 'onnxruntime';
export const DEFAULT_MODEL_FILENAME = 'model.onnx';

/** Triton's ModelWarmup, as the model_configuration extension serves it. */
export interface ModelWarmupConfig {
  name: string;
  batch_size: number;
  count: number;
  inputs: Record<string, { data_type: string; dims: number[]; zero_data?: true; random_data?: true; input_data_file?: string }>;
}

/** Triton's model-configuration form of one tensor; `dims` exclude the batch dimension when max_batch_size > 0. */
export interface TensorConfig {
  name: string;
  /** TYPE_FP32, TYPE_STRING, ... */
  data_type: string;
  dims: number[];
  optional?: boolean;
}

export type VersionPolicy =
  | { all: Record<string, never> }
  | { latest: { num_versions: number } }
  | { specific: { versions: number[] } };

export interface InstanceGroup {
  name: string;
  kind: 'KIND_CPU';
  count: number;
}

/** Triton's ModelQueuePolicy: what the dynamic batcher does with a queue that grows or a request that waits too long. */
export interface QueuePolicy {
  /** REJECT: a request whose timeout passes while queued fails with DEADLINE_EXCEEDED; DELAY: it waits behind the others. */
  timeout_action: 'REJECT' | 'DELAY';
  /** Timeout of a queued request, microseconds; 0: none. */
  default_timeout_microseconds: number;
  /** A request's `timeout` parameter (microseconds) replaces default_timeout_microseconds. */
  allow_timeout_override: boolean;
  /** Requests a priority level's queue holds; 0: unbounded. */
  max_queue_size: number;
}

/** Triton's ModelDynamicBatching, normalised (every field set). */
export interface DynamicBatchingConfig {
  /** Batch sizes the batcher forms as soon as it can; empty: max_batch_size. */
  preferred_batch_size: number[];
  /** How long the oldest request may wait for a fuller batch, microseconds; 0: a batch forms at once. */
  max_queue_delay_microseconds: number;
  /** Responses complete in the order the requests arrived. */
  preserve_ordering: boolean;
  /** 0: one level. Otherwise levels 1 (highest) to priority_levels. */
  priority_levels: number;
  /** The level of a request without `priority` (or with 0); 0 when priority_levels is 0. */
  default_priority_level: number;
  default_queue_policy: QueuePolicy;
}

/** Where a model version runs: see execution-mode.ts. */
export type ExecutionModeSetting = 'inline' | 'thread' | 'auto';

/**
 * The normalised configuration of one model version, as Triton's model_configuration extension
 * serves it: every field this runtime implements, completed from the model file.
 */
export interface ModelConfig {
  name: string;
  platform: string;
  backend: string;
  version_policy: VersionPolicy;
  max_batch_size: number;
  input: TensorConfig[];
  output: TensorConfig[];
  instance_group: InstanceGroup[];
  default_model_filename: string;
  parameters: Record<string, { string_value: string }>;
  /** Present when the config has warm-up samples (model-warmup.ts), in Triton's form. */
  model_warmup?: ModelWarmupConfig[];
  /** Present when the model batches requests together (dynamic-batcher.ts). */
  dynamic_batching?: DynamicBatchingConfig;
}

/** What a config.json declares, before auto-complete. */
export interface DeclaredConfig {
  /** Undefined: decided from the model file (Triton's auto-complete). */
  maxBatchSize: number | undefined;
  /** Empty: taken from the model file. */
  inputs: TensorConfig[];
  /** Empty: every output of the model file. Otherwise the outputs served (a subset is allowed). */
  outputs: TensorConfig[];
  /** The config's platform (a known one); undefined: decided by the model file found. */
  platform: string | undefined;
  /** The config's backend, or the declared platform's; undefined: decided by the model file found. */
  backend: string | undefined;
  /** Default `all`: every version directory is served. */
  versionPolicy: VersionPolicy;
  instanceGroups: InstanceGroup[];
  /** Undefined: the engine's own file name (model.onnx, model.json), whichever the version directory holds. */
  defaultModelFilename: string | undefined;
  parameters: Record<string, { string_value: string }>;
  executionMode: ExecutionModeSetting;
  threads: SessionThreads;
  /** Undefined: requests run one by one, as they come. */
  dynamicBatching: DynamicBatchingConfig | undefined;
  /** Triton's model_warmup samples; empty: generated zero inputs warm each instance up. */
  warmup: WarmupSample[];
  warnings: ConfigWarning[];
}

const TOP_FIELDS = [
  'name',
  'platform',
  'backend',
  'version_policy',
  'max_batch_size',
  'input',
  'output',
  'instance_group',
  'default_model_filename',
  'parameters',
  'dynamic_batching',
  'model_warmup',
];
const TOP_IGNORED = [
  'runtime',
  'batch_input',
  'batch_output',
  'optimization',
  'sequence_batching',
  'ensemble_scheduling',
  'cc_model_filenames',
  'metric_tags',
  'model_operations',
  'model_transaction_policy',
  'model_repository_agents',
  'response_cache',
  'model_metrics',
];
const INPUT_FIELDS = ['name', 'data_type', 'dims', 'optional'];
const INPUT_IGNORED = ['format', 'reshape', 'is_shape_tensor', 'allow_ragged_batch', 'is_non_linear_format_io'];
const OUTPUT_FIELDS = ['name', 'data_type', 'dims'];
const OUTPUT_IGNORED = ['label_filename', 'reshape', 'is_shape_tensor', 'is_non_linear_format_io'];
const BATCHING_FIELDS = [
  'preferred_batch_size',
  'max_queue_delay_microseconds',
  'preserve_ordering',
  'priority_levels',
  'default_priority_level',
  'default_queue_policy',
];
const BATCHING_IGNORED = ['priority_queue_policy', 'default_queue_policy_per_priority'];
const QUEUE_POLICY_FIELDS = ['timeout_action', 'default_timeout_microseconds', 'allow_timeout_override', 'max_queue_size'];
const GROUP_FIELDS = ['name', 'kind', 'count'];
const GROUP_IGNORED = ['gpus', 'secondary_devices', 'profile', 'passive', 'host_policy', 'rate_limiter'];
/**
 * Config parameters Sibyl reads; others are accepted with a warning. `placement_replicas` (how many
 * instances of a pool hold the version warm) is read by the router, not by this runtime.
 */
const KNOWN_PARAMETERS = ['execution_mode', 'intra_op_thread_count', 'inter_op_thread_count', 'placement_replicas'];

function tensors(ctx: ConfigContext, field: 'input' | 'output', value: unknown): TensorConfig[] {
  const list = arrayAt(ctx, field, value);
  const seen = new Set<string>();
  return list.map((item, i) => {
    const path = `${field}[${i}]`;
    const obj = objectAt(ctx, path, item);
    checkFields(ctx, path, obj, field === 'input' ? INPUT_FIELDS : OUTPUT_FIELDS, field === 'input' ? INPUT_IGNORED : OUTPUT_IGNORED);
    if (obj['name'] === undefined) fail(ctx, `${path}.name`, 'is required');
    const name = stringAt(ctx, `${path}.name`, obj['name']);
    if (name === '') fail(ctx, `${path}.name`, 'must not be empty');
    if (seen.has(name)) fail(ctx, `${path}.name`, `'${name}' is declared twice in '${field}'`);
    seen.add(name);
    if (obj['data_type'] === undefined) fail(ctx, `${path}.data_type`, 'is required (e.g. "TYPE_FP32")');
    const dataType = stringAt(ctx, `${path}.data_type`, obj['data_type']);
    const datatype = datatypeOfTriton(dataType);
    if (datatype === undefined) fail(ctx, `${path}.data_type`, `'${dataType}' is not a Triton data type (TYPE_BOOL, TYPE_UINT8, ... TYPE_FP32, TYPE_STRING)`);
    if (datatype === 'BF16') {
      fail(ctx, `${path}.data_type`, `tensor '${name}': TYPE_BF16 is not supported: onnxruntime-node cannot exchange bfloat16 tensors with JavaScript`);
    }
    if (obj['dims'] === undefined) fail(ctx, `${path}.dims`, 'is required (use [] for a scalar, -1 for a variable-size dimension)');
    const dims = arrayAt(ctx, `${path}.dims`, obj['dims']).map((d, j) => {
      const dim = integerAt(ctx, `${path}.dims[${j}]`, d, -1, '-1 (variable size) or a positive integer');
      if (dim === 0) fail(ctx, `${path}.dims[${j}]`, 'must be -1 (variable size) or a positive integer, got 0');
      return dim;
    });
    const tensor: TensorConfig = { name, data_type: dataType, dims };
    if (obj['optional'] !== undefined && booleanAt(ctx, `${path}.optional`, obj['optional'])) {
      tensor.optional = true;
      ctx.warnings.push({
        field: `${path}.optional`,
        message: `field '${path}.optional' is not implemented by this runtime yet: requests must still carry input '${name}'`,
      });
    }
    return tensor;
  });
}

function versionPolicy(ctx: ConfigContext, value: unknown): VersionPolicy {
  const obj = objectAt(ctx, 'version_policy', value);
  const kinds = Object.keys(obj);
  if (kinds.length !== 1) {
    fail(ctx, 'version_policy', `must set exactly one of 'all', 'latest', 'specific', got ${kinds.length === 0 ? 'none' : kinds.map((k) => `'${k}'`).join(', ')}`);
  }
  checkFields(ctx, 'version_policy', obj, ['all', 'latest', 'specific']);
  if (obj['all'] !== undefined) {
    checkFields(ctx, 'version_policy.all', objectAt(ctx, 'version_policy.all', obj['all']), []);
    return { all: {} };
  }
  if (obj['latest'] !== undefined) {
    const latest = objectAt(ctx, 'version_policy.latest', obj['latest']);
    checkFields(ctx, 'version_policy.latest', latest, ['num_versions']);
    if (latest['num_versions'] === undefined) fail(ctx, 'version_policy.latest.num_versions', 'is required');
    const n = integerAt(ctx, 'version_policy.latest.num_versions', latest['num_versions'], 1, 'a positive integer');
    return { latest: { num_versions: n } };
  }
  const specific = objectAt(ctx, 'version_policy.specific', obj['specific']);
  checkFields(ctx, 'version_policy.specific', specific, ['versions']);
  if (specific['versions'] === undefined) fail(ctx, 'version_policy.specific.versions', 'is required');
  const versions = arrayAt(ctx, 'version_policy.specific.versions', specific['versions']).map((v, i) =>
    integerAt(ctx, `version_policy.specific.versions[${i}]`, v, 1, 'a positive integer (a version directory name)'),
  );
  if (versions.length === 0) fail(ctx, 'version_policy.specific.versions', 'must name at least one version');
  const dup = versions.find((v, i) => versions.indexOf(v) !== i);
  if (dup !== undefined) fail(ctx, 'version_policy.specific.versions', `version ${dup} is listed twice`);
  return { specific: { versions } };
}

function instanceGroups(ctx: ConfigContext, model: string, value: unknown): InstanceGroup[] {
  return arrayAt(ctx, 'instance_group', value).map((item, i) => {
    const path = `instance_group[${i}]`;
    const obj = objectAt(ctx, path, item);
    checkFields(ctx, path, obj, GROUP_FIELDS, GROUP_IGNORED);
    const kind = obj['kind'] === undefined ? 'KIND_AUTO' : stringAt(ctx, `${path}.kind`, obj['kind']);
    if (kind !== 'KIND_AUTO' && kind !== 'KIND_CPU') {
      const why = ['KIND_GPU', 'KIND_MODEL'].includes(kind)
        ? `${kind} is not supported: this runtime executes models on the CPU (use KIND_CPU or KIND_AUTO)`
        : `'${kind}' is not a Triton instance kind (KIND_AUTO, KIND_CPU, KIND_GPU, KIND_MODEL)`;
      fail(ctx, `${path}.kind`, why);
    }
    const count = obj['count'] === undefined ? 1 : integerAt(ctx, `${path}.count`, obj['count'], 1, 'a positive integer');
    const name = obj['name'] === undefined ? `${model}_${i}` : stringAt(ctx, `${path}.name`, obj['name']);
    return { name, kind: 'KIND_CPU', count };
  });
}

function queuePolicy(ctx: ConfigContext, path: string, value: unknown): QueuePolicy {
  const obj = objectAt(ctx, path, value);
  checkFields(ctx, path, obj, QUEUE_POLICY_FIELDS);
  let action: QueuePolicy['timeout_action'] = 'REJECT';
  if (obj['timeout_action'] !== undefined) {
    const text = stringAt(ctx, `${path}.timeout_action`, obj['timeout_action']);
    if (text !== 'REJECT' && text !== 'DELAY') fail(ctx, `${path}.timeout_action`, `must be "REJECT" or "DELAY", got ${JSON.stringify(text)}`);
    action = text;
  }
  const micros = (key: string, what: string) =>
    obj[key] === undefined ? 0 : integerAt(ctx, `${path}.${key}`, obj[key], 0, what);
  return {
    timeout_action: action,
    default_timeout_microseconds: micros('default_timeout_microseconds', 'a non-negative integer (microseconds; 0: no timeout)'),
    allow_timeout_override: obj['allow_timeout_override'] === undefined ? false : booleanAt(ctx, `${path}.allow_timeout_override`, obj['allow_timeout_override']),
    max_queue_size: micros('max_queue_size', 'a non-negative integer (0: unbounded)'),
  };
}

function dynamicBatching(ctx: ConfigContext, maxBatchSize: number | undefined, value: unknown): DynamicBatchingConfig {
  const path = 'dynamic_batching';
  const obj = objectAt(ctx, path, value);
  checkFields(ctx, path, obj, BATCHING_FIELDS, BATCHING_IGNORED);
  if (maxBatchSize === 0) fail(ctx, path, 'needs max_batch_size > 0: a model whose requests have no batch dimension cannot batch them');
  const preferred =
    obj['preferred_batch_size'] === undefined
      ? []
      : arrayAt(ctx, `${path}.preferred_batch_size`, obj['preferred_batch_size']).map((v, i) => {
          const field = `${path}.preferred_batch_size[${i}]`;
          const size = integerAt(ctx, field, v, 1, 'a positive integer');
          if (maxBatchSize !== undefined && size > maxBatchSize) fail(ctx, field, `${size} exceeds max_batch_size ${maxBatchSize}`);
          return size;
        });
  const dup = preferred.find((v, i) => preferred.indexOf(v) !== i);
  if (dup !== undefined) fail(ctx, `${path}.preferred_batch_size`, `${dup} is listed twice`);
  const delay =
    obj['max_queue_delay_microseconds'] === undefined
      ? 0
      : integerAt(ctx, `${path}.max_queue_delay_microseconds`, obj['max_queue_delay_microseconds'], 0, 'a non-negative integer (microseconds)');
  const levels =
    obj['priority_levels'] === undefined ? 0 : integerAt(ctx, `${path}.priority_levels`, obj['priority_levels'], 0, 'a non-negative integer');
  let defaultLevel =
    obj['default_priority_level'] === undefined
      ? 0
      : integerAt(ctx, `${path}.default_priority_level`, obj['default_priority_level'], 0, 'a non-negative integer');
  if (levels === 0 && defaultLevel !== 0) {
    fail(ctx, `${path}.default_priority_level`, `is ${defaultLevel} but priority_levels is 0 (one level); set priority_levels, or leave this out`);
  }
  if (levels > 0) {
    // Triton requires it in [1, priority_levels]; left out, the lowest priority is the sensible default.
    if (obj['default_priority_level'] === undefined) defaultLevel = levels;
    else if (defaultLevel < 1 || defaultLevel > levels) fail(ctx, `${path}.default_priority_level`, `must be between 1 and priority_levels (${levels}), got ${defaultLevel}`);
  }
  const policy: QueuePolicy =
    obj['default_queue_policy'] === undefined
      ? { timeout_action: 'REJECT', default_timeout_microseconds: 0, allow_timeout_override: false, max_queue_size: 0 }
      : queuePolicy(ctx, `${path}.default_queue_policy`, obj['default_queue_policy']);
  return {
    preferred_batch_size: [...preferred].sort((a, b) => a - b),
    max_queue_delay_microseconds: delay,
    preserve_ordering: obj['preserve_ordering'] === undefined ? false : booleanAt(ctx, `${path}.preserve_ordering`, obj['preserve_ordering']),
    priority_levels: levels,
    default_priority_level: defaultLevel,
    default_queue_policy: policy,
  };
}

function positiveParameter(ctx: ConfigContext, key: string, value: string): number {
  if (!/^[1-9][0-9]{0,3}$/.test(value)) fail(ctx, `parameters.${key}.string_value`, `must be a positive integer, got ${JSON.stringify(value)}`);
  return Number(value);
}

function parameters(ctx: ConfigContext, value: unknown) {
  const obj = objectAt(ctx, 'parameters', value);
  const out: Record<string, { string_value: string }> = {};
  let executionMode: ExecutionModeSetting = 'auto';
  const threads: SessionThreads = {};
  for (const [key, entry] of Object.entries(obj)) {
    const path = `parameters.${key}`;
    const param = objectAt(ctx, path, entry);
    checkFields(ctx, path, param, ['string_value']);
    if (param['string_value'] === undefined) fail(ctx, `${path}.string_value`, 'is required (Triton parameters are {"string_value": "..."})');
    const text = stringAt(ctx, `${path}.string_value`, param['string_value']);
    out[key] = { string_value: text };
    if (key === 'execution_mode') {
      if (text !== 'inline' && text !== 'thread' && text !== 'auto') {
        const triton =
          text === '0' || text === '1'
            ? "; Triton's onnxruntime backend uses this key for sequential (0) or parallel (1) operator execution, which this runtime does not offer"
            : '';
        fail(ctx, `${path}.string_value`, `must be "inline", "thread" or "auto", got ${JSON.stringify(text)}${triton}`);
      }
      executionMode = text;
    } else if (key === 'intra_op_thread_count') {
      threads.intraOpThreadCount = positiveParameter(ctx, key, text);
    } else if (key === 'inter_op_thread_count') {
      threads.interOpThreadCount = positiveParameter(ctx, key, text);
    } else if (key === 'placement_replicas') {
      positiveParameter(ctx, key, text);
    } else if (!KNOWN_PARAMETERS.includes(key)) {
      ctx.warnings.push({ field: path, message: `parameter '${key}' is not used by this runtime (it reads ${KNOWN_PARAMETERS.join(', ')})` });
    }
  }
  return { parameters: out, executionMode, threads };
}

/**
 * Validates a parsed config.json of model `model` (its directory name). Throws SIBYL_CONFIG_INVALID
 * naming the first field that is wrong; returns the declared settings with the warnings to log.
 */
export function parseModelConfig(model: string, file: string, raw: unknown): DeclaredConfig {
  const ctx: ConfigContext = { model, file, warnings: [] };
  const obj: JsonObject = objectAt(ctx, '', raw);
  checkFields(ctx, '', obj, TOP_FIELDS, TOP_IGNORED);
  if (obj['name'] !== undefined) {
    const name = stringAt(ctx, 'name', obj['name']);
    if (name !== model) fail(ctx, 'name', `'${name}' differs from the model's directory name '${model}'; Triton requires them to match`);
  }
  let platform: string | undefined;
  if (obj['platform'] !== undefined) {
    platform = stringAt(ctx, 'platform', obj['platform']);
    if (!KNOWN_PLATFORMS.has(platform)) fail(ctx, 'platform', `'${platform}' is not supported; Sibyl serves ${[...KNOWN_PLATFORMS.keys()].map((p) => `'${p}'`).join(', ')}`);
  }
  let backend: string | undefined;
  if (obj['backend'] !== undefined) {
    backend = stringAt(ctx, 'backend', obj['backend']);
    if (!KNOWN_BACKENDS.has(backend)) fail(ctx, 'backend', `'${backend}' is not supported; Sibyl's backends are ${[...KNOWN_BACKENDS].map((b) => `'${b}'`).join(', ')}`);
    if (platform !== undefined && KNOWN_PLATFORMS.get(platform) !== backend) {
      fail(ctx, 'backend', `'${backend}' does not serve platform '${platform}' (its backend is '${KNOWN_PLATFORMS.get(platform)}')`);
    }
  }
  const maxBatchSize =
    obj['max_batch_size'] === undefined ? undefined : integerAt(ctx, 'max_batch_size', obj['max_batch_size'], 0, 'a non-negative integer');
  let defaultModelFilename: string | undefined;
  if (obj['default_model_filename'] !== undefined) {
    defaultModelFilename = stringAt(ctx, 'default_model_filename', obj['default_model_filename']);
    if (defaultModelFilename === '' || defaultModelFilename === '.' || defaultModelFilename === '..' || /[/\\]/.test(defaultModelFilename)) {
      fail(ctx, 'default_model_filename', `must be a file name inside the version directory, got ${JSON.stringify(defaultModelFilename)}`);
    }
  }
  const params = obj['parameters'] === undefined ? { parameters: {}, executionMode: 'auto' as const, threads: {} } : parameters(ctx, obj['parameters']);
  return {
    maxBatchSize,
    inputs: obj['input'] === undefined ? [] : tensors(ctx, 'input', obj['input']),
    outputs: obj['output'] === undefined ? [] : tensors(ctx, 'output', obj['output']),
    platform,
    backend: backend ?? (platform === undefined ? undefined : KNOWN_PLATFORMS.get(platform)),
    versionPolicy: obj['version_policy'] === undefined ? { all: {} } : versionPolicy(ctx, obj['version_policy']),
    instanceGroups: obj['instance_group'] === undefined ? [] : instanceGroups(ctx, model, obj['instance_group']),
    defaultModelFilename,
    ...params,
    dynamicBatching: obj['dynamic_batching'] === undefined ? undefined : dynamicBatching(ctx, maxBatchSize, obj['dynamic_batching']),
    warmup: obj['model_warmup'] === undefined ? [] : parseModelWarmup(ctx, obj['model_warmup']),
    warnings: ctx.warnings,
  };
}

/** The settings of a model without config.json: everything from the model file. */
export function defaultDeclaredConfig(): DeclaredConfig {
  return {
    maxBatchSize: undefined,
    inputs: [],
    outputs: [],
    platform: undefined,
    backend: undefined,
    versionPolicy: { all: {} },
    instanceGroups: [],
    defaultModelFilename: undefined,
    parameters: {},
    executionMode: 'auto',
    threads: {},
    dynamicBatching: undefined,
    warmup: [],
    warnings: [],
  };
}

/** Execution instances asked for: the sum of instance_group counts, default 1. */
export function instanceCount(config: DeclaredConfig): number {
  return config.instanceGroups.length === 0 ? 1 : config.instanceGroups.reduce((n, g) => n + g.count, 0);
}
