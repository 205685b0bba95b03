import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { buildOnnxModel, identityModel } from './onnx-builder.js';

describe('buildOnnxModel', () => {
  it('builds a model that onnxruntime loads and runs', async () => {
    const bytes = buildOnnxModel({
      name: 'add',
      inputs: [{ name: 'x', datatype: 'FP32', shape: ['batch', 2] }],
      outputs: [{ name: 'y', datatype: 'FP32', shape: ['batch', 2] }],
      initializers: [{ name: 'b', datatype: 'FP32', dims: [2], values: new Float32Array([1, 2]) }],
      nodes: [{ op: 'Add', inputs: ['x', 'b'], outputs: ['y'] }],
    });
    const session = await ort.InferenceSession.create(bytes);
    const out = await session.run({ x: new ort.Tensor('float32', new Float32Array([1, 1, 2, 2]), [2, 2]) });
    expect(Array.from(out.y!.data as Float32Array)).toEqual([2, 3, 3, 4]);
  });

  it('is deterministic', () => {
    const a = identityModel('id', [{ name: 's', datatype: 'BYTES', shape: ['n'] }]);
    const b = identityModel('id', [{ name: 's', datatype: 'BYTES', shape: ['n'] }]);
    expect(Buffer.compare(Buffer.from(a), Buffer.from(b))).toBe(0);
  });
});
