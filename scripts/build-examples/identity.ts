/**
 * `identity`: a 1-D FP32 tensor of any length echoed unchanged. The benchmark moves a 16 MiB tensor
 * through it, so what it measures is transport, not compute.
 */
import { buildOnnxModel, type ModelSpec } from '../../packages/testkit/src/index.js';
import type { ExampleModel } from './example-model.js';

export function identityModelSpec(): ModelSpec {
  return {
    name: 'identity',
    docString: 'output = input, a 1-D FP32 tensor of any length.',
    inputs: [{ name: 'input', datatype: 'FP32', shape: ['n'] }],
    outputs: [{ name: 'output', datatype: 'FP32', shape: ['n'] }],
    nodes: [{ op: 'Identity', inputs: ['input'], outputs: ['output'] }],
  };
}

export function buildIdentity(): ExampleModel {
  const spec = identityModelSpec();
  return {
    // Without a config, a variable first dimension reads as a batch dimension (Triton's auto-complete,
    // max_batch_size 4), and a 4M-element tensor would be a batch of 4M. This model has no batch.
    repository: { name: 'identity', versions: { '1': buildOnnxModel(spec) }, config: { name: 'identity', max_batch_size: 0 } },
    inputs: spec.inputs,
    outputs: spec.outputs,
    shows: 'transport cost alone (the benchmark sends it 16 MiB tensors)',
    readme: `\`output\` is \`input\`, a 1-D FP32 tensor of any length (4,194,304 elements is 16 MiB). The model does
no work, so its latency and throughput are the server's and the transport's. Its \`config.json\` says
\`max_batch_size: 0\`: the variable dimension is the tensor's length, not a batch.`,
    report: [],
  };
}
