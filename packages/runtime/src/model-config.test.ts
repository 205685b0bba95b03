import { isSibylError } from '@sibyl/protocol';
import { describe, expect, it } from 'vitest';
import { instanceCount, parseModelConfig } from './model-config.js';

const FILE = '/repo/m/config.json';
const tensor = { name: 'x', data_type: 'TYPE_FP32', dims: [3] };

function reject(config: unknown): string {
  try {
    parseModelConfig('m', FILE, config);
  } catch (err) {
    if (!isSibylError(err)) throw err;
    expect(err.code).toBe('SIBYL_CONFIG_INVALID');
    expect(err.category).toBe('INVALID_ARGUMENT');
    return err.message;
  }
  throw new Error('config was accepted');
}

describe('parseModelConfig: every rule names the field and says why', () => {
  it.each([
    ['the config is not an object', [], '', 'must be an object, got an array'],
    ['an unknown top-level field', { foo: 1 }, 'foo', "unknown field; Triton's model configuration has no such field"],
    ['a camelCase spelling of a Triton field', { maxBatchSize: 8 }, 'maxBatchSize', "Triton spells it 'max_batch_size'"],
    ['a name that differs from the directory', { name: 'other' }, 'name', "'other' differs from the model's directory name 'm'"],
    ['another platform', { platform: 'tensorflow_savedmodel' }, 'platform', "'tensorflow_savedmodel' is not supported"],
    ['another backend', { backend: 'python' }, 'backend', "'python' is not supported"],
    ['a negative max_batch_size', { max_batch_size: -1 }, 'max_batch_size', 'must be a non-negative integer, got number -1'],
    ['a fractional max_batch_size', { max_batch_size: 1.5 }, 'max_batch_size', 'must be a non-negative integer'],
    ['input that is not a list', { input: tensor }, 'input', 'must be an array, got an object'],
    ['an input without a name', { input: [{ data_type: 'TYPE_FP32', dims: [1] }] }, 'input[0].name', 'is required'],
    ['an input with an empty name', { input: [{ ...tensor, name: '' }] }, 'input[0].name', 'must not be empty'],
    ['an input declared twice', { input: [tensor, tensor] }, 'input[1].name', "'x' is declared twice in 'input'"],
    ['an input without data_type', { input: [{ name: 'x', dims: [1] }] }, 'input[0].data_type', 'is required'],
    ['an unknown data_type', { input: [{ ...tensor, data_type: 'FP32' }] }, 'input[0].data_type', "'FP32' is not a Triton data type"],
    ['TYPE_INVALID', { input: [{ ...tensor, data_type: 'TYPE_INVALID' }] }, 'input[0].data_type', "'TYPE_INVALID' is not a Triton data type"],
    ['TYPE_BF16', { input: [{ ...tensor, data_type: 'TYPE_BF16' }] }, 'input[0].data_type', "tensor 'x': TYPE_BF16 is not supported"],
    ['an input without dims', { input: [{ name: 'x', data_type: 'TYPE_FP32' }] }, 'input[0].dims', 'is required'],
    ['a zero dim', { input: [{ ...tensor, dims: [2, 0] }] }, 'input[0].dims[1]', 'got 0'],
    ['a dim below -1', { input: [{ ...tensor, dims: [-2] }] }, 'input[0].dims[0]', '-1 (variable size) or a positive integer, got number -2'],
    ['a dim that is not a number', { input: [{ ...tensor, dims: ['x'] }] }, 'input[0].dims[0]', 'got string "x"'],
    ['an unknown input field', { input: [{ ...tensor, shape: [3] }] }, 'input[0].shape', 'unknown field'],
    ['an output field of inputs on an output', { output: [{ ...tensor, optional: true }] }, 'output[0].optional', 'unknown field'],
    ['an output declared twice', { output: [tensor, tensor] }, 'output[1].name', "'x' is declared twice in 'output'"],
    ['a version_policy with no kind', { version_policy: {} }, 'version_policy', "exactly one of 'all', 'latest', 'specific', got none"],
    ['a version_policy with two kinds', { version_policy: { all: {}, latest: { num_versions: 1 } } }, 'version_policy', "got 'all', 'latest'"],
    ['a misspelt version_policy kind', { version_policy: { newest: {} } }, 'version_policy.newest', 'unknown field'],
    ['fields inside version_policy.all', { version_policy: { all: { n: 1 } } }, 'version_policy.all.n', 'unknown field'],
    ['latest without num_versions', { version_policy: { latest: {} } }, 'version_policy.latest.num_versions', 'is required'],
    ['latest 0', { version_policy: { latest: { num_versions: 0 } } }, 'version_policy.latest.num_versions', 'must be a positive integer'],
    ['specific without versions', { version_policy: { specific: {} } }, 'version_policy.specific.versions', 'is required'],
    ['specific with no versions', { version_policy: { specific: { versions: [] } } }, 'version_policy.specific.versions', 'at least one version'],
    ['specific version 0', { version_policy: { specific: { versions: [0] } } }, 'version_policy.specific.versions[0]', 'must be a positive integer'],
    ['specific version twice', { version_policy: { specific: { versions: [2, 2] } } }, 'version_policy.specific.versions', 'version 2 is listed twice'],
    ['instance_group that is not a list', { instance_group: { count: 2 } }, 'instance_group', 'must be an array'],
    ['a GPU instance group', { instance_group: [{ kind: 'KIND_GPU' }] }, 'instance_group[0].kind', 'KIND_GPU is not supported: this runtime executes models on the CPU'],
    ['an unknown instance kind', { instance_group: [{ kind: 'CPU' }] }, 'instance_group[0].kind', "'CPU' is not a Triton instance kind"],
    ['an instance count of 0', { instance_group: [{ count: 0 }] }, 'instance_group[0].count', 'must be a positive integer, got number 0'],
    ['an unknown instance_group field', { instance_group: [{ instances: 2 }] }, 'instance_group[0].instances', 'unknown field'],
    ['parameters that are not an object', { parameters: [] }, 'parameters', 'must be an object'],
    ['a parameter without string_value', { parameters: { a: { value: 'x' } } }, 'parameters.a.value', 'unknown field'],
    ['a parameter with an empty object', { parameters: { a: {} } }, 'parameters.a.string_value', 'is required'],
    ['a parameter value that is not a string', { parameters: { a: { string_value: 1 } } }, 'parameters.a.string_value', 'must be a string, got number 1'],
    ['an unknown execution_mode', { parameters: { execution_mode: { string_value: 'gpu' } } }, 'parameters.execution_mode.string_value', 'must be "inline", "thread" or "auto", got "gpu"'],
    ["onnxruntime's execution_mode values", { parameters: { execution_mode: { string_value: '1' } } }, 'parameters.execution_mode.string_value', "Triton's onnxruntime backend uses this key"],
    ['a non-numeric intra_op_thread_count', { parameters: { intra_op_thread_count: { string_value: 'two' } } }, 'parameters.intra_op_thread_count.string_value', 'must be a positive integer, got "two"'],
    ['a zero inter_op_thread_count', { parameters: { inter_op_thread_count: { string_value: '0' } } }, 'parameters.inter_op_thread_count.string_value', 'must be a positive integer'],
    ['a default_model_filename with a path', { default_model_filename: '../x.onnx' }, 'default_model_filename', 'must be a file name inside the version directory'],
    ['an empty default_model_filename', { default_model_filename: '' }, 'default_model_filename', 'must be a file name'],
    ['dynamic_batching that is not an object', { dynamic_batching: true }, 'dynamic_batching', 'must be an object, got boolean true'],
    ['dynamic_batching without a batch dimension', { max_batch_size: 0, dynamic_batching: {} }, 'dynamic_batching', 'needs max_batch_size > 0'],
    ['an unknown dynamic_batching field', { dynamic_batching: { max_queue_delay: 5 } }, 'dynamic_batching.max_queue_delay', 'unknown field'],
    ['a camelCase dynamic_batching field', { dynamic_batching: { preferredBatchSize: [2] } }, 'dynamic_batching.preferredBatchSize', "Triton spells it 'preferred_batch_size'"],
    ['a preferred_batch_size of 0', { dynamic_batching: { preferred_batch_size: [0] } }, 'dynamic_batching.preferred_batch_size[0]', 'must be a positive integer, got number 0'],
    ['a preferred_batch_size above max_batch_size', { max_batch_size: 4, dynamic_batching: { preferred_batch_size: [2, 8] } }, 'dynamic_batching.preferred_batch_size[1]', '8 exceeds max_batch_size 4'],
    ['a preferred_batch_size listed twice', { dynamic_batching: { preferred_batch_size: [2, 2] } }, 'dynamic_batching.preferred_batch_size', '2 is listed twice'],
    ['a negative max_queue_delay_microseconds', { dynamic_batching: { max_queue_delay_microseconds: -1 } }, 'dynamic_batching.max_queue_delay_microseconds', 'must be a non-negative integer (microseconds), got number -1'],
    ['a preserve_ordering that is not a boolean', { dynamic_batching: { preserve_ordering: 'yes' } }, 'dynamic_batching.preserve_ordering', 'must be true or false'],
    ['a default_priority_level without priority_levels', { dynamic_batching: { default_priority_level: 1 } }, 'dynamic_batching.default_priority_level', 'priority_levels is 0'],
    ['a default_priority_level above priority_levels', { dynamic_batching: { priority_levels: 2, default_priority_level: 3 } }, 'dynamic_batching.default_priority_level', 'must be between 1 and priority_levels (2), got 3'],
    ['a default_priority_level of 0 with priority_levels', { dynamic_batching: { priority_levels: 2, default_priority_level: 0 } }, 'dynamic_batching.default_priority_level', 'got 0'],
    ['an unknown timeout_action', { dynamic_batching: { default_queue_policy: { timeout_action: 'DROP' } } }, 'dynamic_batching.default_queue_policy.timeout_action', 'must be "REJECT" or "DELAY", got "DROP"'],
    ['a negative max_queue_size', { dynamic_batching: { default_queue_policy: { max_queue_size: -2 } } }, 'dynamic_batching.default_queue_policy.max_queue_size', 'must be a non-negative integer (0: unbounded)'],
    ['a fractional default_timeout_microseconds', { dynamic_batching: { default_queue_policy: { default_timeout_microseconds: 1.5 } } }, 'dynamic_batching.default_queue_policy.default_timeout_microseconds', 'must be a non-negative integer'],
    ['an allow_timeout_override that is not a boolean', { dynamic_batching: { default_queue_policy: { allow_timeout_override: 1 } } }, 'dynamic_batching.default_queue_policy.allow_timeout_override', 'must be true or false'],
    ['an unknown queue policy field', { dynamic_batching: { default_queue_policy: { max_size: 1 } } }, 'dynamic_batching.default_queue_policy.max_size', 'unknown field'],
  ])('rejects %s', (_what, config, field, why) => {
    const message = reject(config);
    expect(message).toContain(`model 'm': ${FILE}: `);
    if (field !== '') expect(message).toContain(`field '${field}': `);
    expect(message).toContain(why);
  });

  it('accepts a full config and normalises what it declares', () => {
    const parsed = parseModelConfig('m', FILE, {
      name: 'm',
      platform: 'onnxruntime_onnx',
      backend: 'onnxruntime',
      max_batch_size: '8',
      input: [{ name: 'x', data_type: 'TYPE_FP32', dims: ['-1', 3], optional: false }],
      output: [{ name: 'y', data_type: 'TYPE_STRING', dims: [] }],
      version_policy: { specific: { versions: [3, '1'] } },
      instance_group: [{ kind: 'KIND_CPU', count: 2 }, { name: 'more', count: '3' }],
      default_model_filename: 'net.onnx',
      parameters: {
        execution_mode: { string_value: 'thread' },
        intra_op_thread_count: { string_value: '2' },
        inter_op_thread_count: { string_value: '1' },
      },
    });
    expect(parsed.maxBatchSize).toBe(8);
    expect(parsed.inputs).toEqual([{ name: 'x', data_type: 'TYPE_FP32', dims: [-1, 3] }]);
    expect(parsed.outputs).toEqual([{ name: 'y', data_type: 'TYPE_STRING', dims: [] }]);
    expect(parsed.versionPolicy).toEqual({ specific: { versions: [3, 1] } });
    expect(parsed.instanceGroups).toEqual([
      { name: 'm_0', kind: 'KIND_CPU', count: 2 },
      { name: 'more', kind: 'KIND_CPU', count: 3 },
    ]);
    expect(instanceCount(parsed)).toBe(5);
    expect(parsed.defaultModelFilename).toBe('net.onnx');
    expect(parsed.executionMode).toBe('thread');
    expect(parsed.threads).toEqual({ intraOpThreadCount: 2, interOpThreadCount: 1 });
    expect(parsed.warnings).toEqual([]);
  });

  it('defaults: every version, auto execution, one instance, max_batch_size from the file', () => {
    const parsed = parseModelConfig('m', FILE, {});
    expect(parsed.versionPolicy).toEqual({ all: {} });
    expect(parsed.executionMode).toBe('auto');
    expect(parsed.maxBatchSize).toBeUndefined();
    expect(instanceCount(parsed)).toBe(1);
    // No file name, platform or backend: the version directory's file decides (model.onnx, model.json).
    expect(parsed.defaultModelFilename).toBeUndefined();
    expect(parsed.platform).toBeUndefined();
    expect(parsed.backend).toBeUndefined();
  });

  it('takes every platform an engine serves, with its backend, and refuses a mismatch naming both', () => {
    expect(parseModelConfig('m', FILE, { platform: 'tensorflowjs_graph' })).toMatchObject({ platform: 'tensorflowjs_graph', backend: 'tfjs' });
    expect(parseModelConfig('m', FILE, { backend: 'onnxruntime' })).toMatchObject({ platform: undefined, backend: 'onnxruntime' });
    expect(() => parseModelConfig('m', FILE, { platform: 'tensorflow_savedmodel' })).toThrow(/platform.*'tensorflow_savedmodel' is not supported; Sibyl serves 'onnxruntime_onnx', 'tensorflowjs_graph', 'tensorflowjs_layers'/);
    expect(() => parseModelConfig('m', FILE, { platform: 'tensorflowjs_layers', backend: 'onnxruntime' })).toThrow(/backend.*'onnxruntime' does not serve platform 'tensorflowjs_layers' \(its backend is 'tfjs'\)/);
    expect(() => parseModelConfig('m', FILE, { backend: 'pytorch' })).toThrow(/backend.*'pytorch' is not supported/);
  });

  it('reads dynamic_batching: Triton defaults for what it leaves out', () => {
    expect(parseModelConfig('m', FILE, {}).dynamicBatching).toBeUndefined();
    expect(parseModelConfig('m', FILE, { dynamic_batching: {} }).dynamicBatching).toEqual({
      preferred_batch_size: [],
      max_queue_delay_microseconds: 0,
      preserve_ordering: false,
      priority_levels: 0,
      default_priority_level: 0,
      default_queue_policy: { timeout_action: 'REJECT', default_timeout_microseconds: 0, allow_timeout_override: false, max_queue_size: 0 },
    });
    const parsed = parseModelConfig('m', FILE, {
      max_batch_size: 16,
      dynamic_batching: {
        preferred_batch_size: [8, '4'],
        max_queue_delay_microseconds: '100',
        preserve_ordering: true,
        priority_levels: 3,
        default_priority_level: 2,
        default_queue_policy: { timeout_action: 'DELAY', default_timeout_microseconds: 5000, allow_timeout_override: true, max_queue_size: 32 },
        priority_queue_policy: { '1': { max_queue_size: 4 } },
      },
    });
    expect(parsed.dynamicBatching).toEqual({
      preferred_batch_size: [4, 8],
      max_queue_delay_microseconds: 100,
      preserve_ordering: true,
      priority_levels: 3,
      default_priority_level: 2,
      default_queue_policy: { timeout_action: 'DELAY', default_timeout_microseconds: 5000, allow_timeout_override: true, max_queue_size: 32 },
    });
    expect(parsed.warnings).toEqual([
      { field: 'dynamic_batching.priority_queue_policy', message: "field 'dynamic_batching.priority_queue_policy' is not implemented by this runtime yet and is ignored" },
    ]);
    // Without default_priority_level, requests without a priority take the lowest one.
    expect(parseModelConfig('m', FILE, { dynamic_batching: { priority_levels: 3 } }).dynamicBatching?.default_priority_level).toBe(3);
  });

  it('accepts Triton fields it does not implement, with one warning each, and none for defaults', () => {
    const parsed = parseModelConfig('m', FILE, {
      sequence_batching: {},
      response_cache: { enable: true },
      optimization: { graph: { level: 1 } },
      metric_tags: [],
      input: [{ ...tensor, format: 'FORMAT_NCHW', is_shape_tensor: false, optional: true }],
      output: [{ ...tensor, label_filename: 'labels.txt' }],
      instance_group: [{ count: 1, rate_limiter: { priority: 1 } }],
      parameters: { custom: { string_value: 'x' } },
    });
    const byField = new Map(parsed.warnings.map((w) => [w.field, w.message]));
    expect([...byField.keys()].sort()).toEqual([
      'input[0].format',
      'input[0].optional',
      'instance_group[0].rate_limiter',
      'optimization',
      'output[0].label_filename',
      'parameters.custom',
      'response_cache',
      'sequence_batching',
    ]);
    expect(byField.get('sequence_batching')).toBe("field 'sequence_batching' is not implemented by this runtime yet and is ignored");
    expect(byField.get('input[0].optional')).toContain("requests must still carry input 'x'");
    expect(parsed.inputs[0]!.optional).toBe(true);
  });
});
