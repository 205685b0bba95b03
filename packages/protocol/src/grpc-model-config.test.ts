import { describe, expect, it } from 'vitest';
import { modelConfigFromGrpc } from './grpc-model-config.js';

describe('modelConfigFromGrpc', () => {
  it('turns the loader form of a ModelConfig back into the REST JSON form', () => {
    // As @grpc/proto-loader decodes it with PROTO_LOADER_OPTIONS (longs and enums as strings,
    // oneof markers, every repeated field present).
    const message = {
      name: 'mlp',
      platform: 'onnxruntime_onnx',
      version_policy: { specific: { versions: ['1', '3'] }, policy_choice: 'specific' },
      max_batch_size: 64,
      input: [{ name: 'x', data_type: 'TYPE_FP32', format: 'FORMAT_NONE', dims: ['-1', '1024'], optional: false }],
      output: [{ name: 'y', data_type: 'TYPE_FP32', dims: ['16'] }],
      dynamic_batching: {
        preferred_batch_size: [16, 32],
        max_queue_delay_microseconds: '2000',
        priority_levels: '2',
        default_priority_level: '1',
        default_queue_policy: { timeout_action: 'DELAY', default_timeout_microseconds: '500000', max_queue_size: 8 },
      },
      scheduling_choice: 'dynamic_batching',
      instance_group: [{ name: 'mlp_0', kind: 'KIND_CPU', count: 2, gpus: [], profile: [] }],
      model_warmup: [{ name: 'w', batch_size: 1, count: 2, inputs: { x: { data_type: 'TYPE_FP32', dims: ['1024'], zero_data: true, input_data_type: 'zero_data' } } }],
    };
    expect(modelConfigFromGrpc(message)).toEqual({
      name: 'mlp',
      platform: 'onnxruntime_onnx',
      version_policy: { specific: { versions: [1, 3] } },
      max_batch_size: 64,
      input: [{ name: 'x', data_type: 'TYPE_FP32', format: 'FORMAT_NONE', dims: [-1, 1024], optional: false }],
      output: [{ name: 'y', data_type: 'TYPE_FP32', dims: [16] }],
      dynamic_batching: {
        preferred_batch_size: [16, 32],
        max_queue_delay_microseconds: 2000,
        priority_levels: 2,
        default_priority_level: 1,
        default_queue_policy: { timeout_action: 'DELAY', default_timeout_microseconds: 500000, max_queue_size: 8 },
      },
      instance_group: [{ name: 'mlp_0', kind: 'KIND_CPU', count: 2 }],
      model_warmup: [{ name: 'w', batch_size: 1, count: 2, inputs: { x: { data_type: 'TYPE_FP32', dims: [1024], zero_data: true } } }],
    });
  });

  it('refuses a message without a name', () => {
    expect(() => modelConfigFromGrpc({ platform: 'onnxruntime_onnx' })).toThrow('the ModelConfig message has no name');
  });
});
