import type { MethodDefinition, ServiceDefinition } from '@grpc/proto-loader';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Datatype } from './datatypes.js';
import type { ModelInferRequest, ModelInferRequest__Output } from './generated/inference/ModelInferRequest.js';
import type { ModelInferResponse, ModelInferResponse__Output } from './generated/inference/ModelInferResponse.js';
import { loadInferenceDefinitions } from './grpc-definitions.js';
import {
  decodeGrpcInferRequest,
  decodeGrpcInferResponse,
  encodeGrpcInferRequest,
  encodeGrpcInferResponse,
  requestUsedRaw,
} from './grpc-codec.js';
import { parametersFromGrpc, parametersToGrpc } from './grpc-parameters.js';
import type { InferRequest, InferResponse } from './messages.js';
import { SibylError } from './sibyl-error.js';
import type { Tensor } from './tensor.js';

// Messages go through the real protobuf encoding, with the loader options every Sibyl server uses.
const service = loadInferenceDefinitions()['inference.GRPCInferenceService'] as ServiceDefinition;
const modelInfer = service['ModelInfer'] as MethodDefinition<
  ModelInferRequest,
  ModelInferResponse,
  ModelInferRequest__Output,
  ModelInferResponse__Output
>;
const overWireRequest = (m: ModelInferRequest) => modelInfer.requestDeserialize(modelInfer.requestSerialize(m));
const overWireResponse = (m: ModelInferResponse) => modelInfer.responseDeserialize(modelInfer.responseSerialize(m));

function failure(fn: () => unknown): SibylError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SibylError);
    expect((err as SibylError).category).toBe('INVALID_ARGUMENT');
    return err as SibylError;
  }
  throw new Error('expected a SibylError');
}

const tensors: Tensor[] = [
  { name: 'b', datatype: 'BOOL', shape: [2], data: new Uint8Array([1, 0]) },
  { name: 'u8', datatype: 'UINT8', shape: [2], data: new Uint8Array([0, 255]) },
  { name: 'u16', datatype: 'UINT16', shape: [1], data: new Uint16Array([65535]) },
  { name: 'u32', datatype: 'UINT32', shape: [1], data: new Uint32Array([4294967295]) },
  { name: 'u64', datatype: 'UINT64', shape: [1], data: new BigUint64Array([18446744073709551615n]) },
  { name: 'i8', datatype: 'INT8', shape: [2], data: new Int8Array([-128, 127]) },
  { name: 'i16', datatype: 'INT16', shape: [1], data: new Int16Array([-32768]) },
  { name: 'i32', datatype: 'INT32', shape: [1, 2], data: new Int32Array([-2147483648, 7]) },
  { name: 'i64', datatype: 'INT64', shape: [2], data: new BigInt64Array([-9223372036854775808n, 9007199254740993n]) },
  { name: 'f32', datatype: 'FP32', shape: [2], data: new Float32Array([0.1, -Infinity]) },
  { name: 'f64', datatype: 'FP64', shape: [1], data: new Float64Array([Math.PI]) },
  { name: 's', datatype: 'BYTES', shape: [2], data: [Buffer.from('é'), Buffer.alloc(0)] },
];
const halfTensors: Tensor[] = [
  { name: 'h', datatype: 'FP16', shape: [2], data: new Uint16Array([0x3c00, 0x7e00]) },
  { name: 'bf', datatype: 'BF16', shape: [1], data: new Uint16Array([0x3f80]) },
];

const plain = (t: Tensor) => ({
  ...t,
  data: Array.isArray(t.data) ? t.data.map((e) => Buffer.from(e).toString('hex')) : Array.from(t.data as ArrayLike<unknown>),
});

describe('ModelInfer requests', () => {
  const request: InferRequest = {
    modelName: 'm',
    modelVersion: '2',
    id: 'req-1',
    parameters: { big: 9223372036854775807n, n: 5, f: 0.5, ok: true, s: 'x' },
    inputs: tensors.map((t) => ({ ...t, parameters: { note: t.name } })),
    outputs: [{ name: 'y', parameters: { classification: 2 } }, { name: 'z' }],
  };

  it('round-trips every datatype in typed contents', () => {
    const wire = overWireRequest(encodeGrpcInferRequest(request, { raw: false }));
    expect(requestUsedRaw(wire)).toBe(false);
    expect(wire.inputs[4]!.contents!.uint64_contents).toEqual(['18446744073709551615']);
    const back = decodeGrpcInferRequest(wire);
    expect({ ...back, inputs: back.inputs.map(plain) }).toEqual({ ...request, inputs: request.inputs.map(plain) });
  });

  it('round-trips every datatype in raw contents, FP16 and BF16 included', () => {
    const all = { ...request, inputs: [...request.inputs, ...halfTensors] };
    const wire = overWireRequest(encodeGrpcInferRequest(all, { raw: true }));
    expect(requestUsedRaw(wire)).toBe(true);
    expect(wire.raw_input_contents).toHaveLength(all.inputs.length);
    const back = decodeGrpcInferRequest(wire);
    expect(back.inputs.map(plain)).toEqual(all.inputs.map(plain));
  });

  it('encodes raw when any input is FP16/BF16, even if typed contents were asked for', () => {
    const message = encodeGrpcInferRequest({ modelName: 'm', inputs: halfTensors }, { raw: false });
    expect(message.raw_input_contents).toHaveLength(2);
  });

  it('decodes an empty request and leaves unset fields out', () => {
    expect(decodeGrpcInferRequest(overWireRequest({ model_name: 'm' }))).toEqual({ modelName: 'm', inputs: [] });
  });

  it('rejects contents alongside raw_input_contents', () => {
    const message = overWireRequest({
      model_name: 'm',
      inputs: [{ name: 'x', datatype: 'INT32', shape: [1], contents: { int_contents: [1] } }],
      raw_input_contents: [Buffer.alloc(4)],
    });
    const err = failure(() => decodeGrpcInferRequest(message));
    expect(err.code).toBe('SIBYL_GRPC_CONTENTS_WITH_RAW');
    expect(err.message).toBe("contents field must not be specified when using raw_input_contents for input 'x'");
  });

  it('rejects a raw_input_contents count different from the inputs', () => {
    const message = overWireRequest({
      inputs: [
        { name: 'x', datatype: 'INT32', shape: [1] },
        { name: 'y', datatype: 'INT32', shape: [1] },
      ],
      raw_input_contents: [Buffer.alloc(4)],
    });
    const err = failure(() => decodeGrpcInferRequest(message));
    expect(err.code).toBe('SIBYL_GRPC_RAW_COUNT');
    expect(err.message).toBe('raw_input_contents has 1 entries for 2 inputs; it needs one per input');
  });

  it('rejects FP16/BF16 in typed contents', () => {
    for (const datatype of ['FP16', 'BF16']) {
      const message = overWireRequest({ inputs: [{ name: 'h', datatype, shape: [1], contents: { fp32_contents: [1] } }] });
      const err = failure(() => decodeGrpcInferRequest(message));
      expect(err.code).toBe('SIBYL_GRPC_HALF_IN_CONTENTS');
      expect(err.message).toBe(`input 'h': ${datatype} data must be sent in raw_input_contents; InferTensorContents has no field for it`);
    }
  });

  it('rejects contents in the wrong field for the datatype', () => {
    const cases: [Datatype, Record<string, unknown>, string][] = [
      ['INT64', { int_contents: [1] }, 'int_contents'],
      ['UINT8', { int_contents: [1] }, 'int_contents'],
      ['FP64', { fp32_contents: [1] }, 'fp32_contents'],
      ['BYTES', { bool_contents: [true] }, 'bool_contents'],
    ];
    for (const [datatype, contents, field] of cases) {
      const message = overWireRequest({ inputs: [{ name: 'x', datatype, shape: [1], contents }] });
      const err = failure(() => decodeGrpcInferRequest(message));
      expect(err.code).toBe('SIBYL_GRPC_CONTENTS_FIELD');
      expect(err.message).toContain(`got contents.${field}`);
    }
  });

  it('rejects an input with elements but no data, and a contents length that differs from the shape', () => {
    const none = failure(() => decodeGrpcInferRequest(overWireRequest({ inputs: [{ name: 'x', datatype: 'FP32', shape: [2] }] })));
    expect(none.code).toBe('SIBYL_GRPC_INPUT_NO_DATA');
    const halfNone = failure(() => decodeGrpcInferRequest(overWireRequest({ inputs: [{ name: 'h', datatype: 'FP16', shape: [1] }] })));
    expect(halfNone.code).toBe('SIBYL_GRPC_INPUT_NO_DATA');
    const emptyTensor = decodeGrpcInferRequest(overWireRequest({ inputs: [{ name: 'h', datatype: 'FP16', shape: [0, 3] }] }));
    expect(emptyTensor.inputs[0]!.data).toEqual(new Uint16Array(0));
    const short = failure(() =>
      decodeGrpcInferRequest(overWireRequest({ inputs: [{ name: 'x', datatype: 'FP32', shape: [2], contents: { fp32_contents: [1] } }] })),
    );
    expect(short.code).toBe('SIBYL_TENSOR_ELEMENT_COUNT');
    expect(short.message).toBe("input 'x': expected 2 elements for shape [2], got 1");
  });

  it('rejects narrow integers out of range, unknown datatypes, negative dims and bad raw sizes', () => {
    const range = failure(() =>
      decodeGrpcInferRequest(overWireRequest({ inputs: [{ name: 'x', datatype: 'INT8', shape: [2], contents: { int_contents: [1, 300] } }] })),
    );
    expect(range.code).toBe('SIBYL_TENSOR_VALUE_RANGE');
    expect(range.message).toBe("input 'x': element 1 (300) is out of range for INT8");
    const unsigned = failure(() =>
      decodeGrpcInferRequest(overWireRequest({ inputs: [{ name: 'x', datatype: 'UINT16', shape: [1], contents: { uint_contents: [70000] } }] })),
    );
    expect(unsigned.code).toBe('SIBYL_TENSOR_VALUE_RANGE');
    const unknown = failure(() => decodeGrpcInferRequest(overWireRequest({ inputs: [{ name: 'x', datatype: 'FLOAT', shape: [1] }] })));
    expect(unknown.code).toBe('SIBYL_TENSOR_DATATYPE_UNKNOWN');
    const negative = failure(() =>
      decodeGrpcInferRequest(overWireRequest({ inputs: [{ name: 'x', datatype: 'FP32', shape: [-1] }], raw_input_contents: [Buffer.alloc(4)] })),
    );
    expect(negative.code).toBe('SIBYL_TENSOR_SHAPE_INVALID');
    expect(negative.message).toBe("input 'x': shape[0] must be a non-negative integer, got string \"-1\"");
    const size = failure(() =>
      decodeGrpcInferRequest(overWireRequest({ inputs: [{ name: 'x', datatype: 'FP32', shape: [2] }], raw_input_contents: [Buffer.alloc(4)] })),
    );
    expect(size.code).toBe('SIBYL_TENSOR_BYTE_SIZE');
  });

  it('round-trips random INT64 and FP32 raw data exactly', () => {
    fc.assert(
      fc.property(fc.bigInt64Array({ maxLength: 30 }), fc.float32Array({ maxLength: 30 }), (ints, floats) => {
        const wire = overWireRequest(
          encodeGrpcInferRequest(
            {
              modelName: 'm',
              inputs: [
                { name: 'i', datatype: 'INT64', shape: [ints.length], data: ints },
                { name: 'f', datatype: 'FP32', shape: [floats.length], data: floats },
              ],
            },
            { raw: true },
          ),
        );
        const [i, f] = decodeGrpcInferRequest(wire).inputs;
        expect(i!.data).toEqual(ints);
        expect(Array.from(f!.data as Float32Array)).toEqual(Array.from(floats));
      }),
      { numRuns: 100 },
    );
  });
});

describe('ModelInfer responses', () => {
  const response: InferResponse = {
    modelName: 'm',
    modelVersion: '1',
    id: 'r',
    parameters: { n: 3 },
    outputs: tensors.map((t) => ({ ...t, parameters: { p: true } })),
  };

  it('encodes raw outputs as views of the tensor memory, one per output', () => {
    const message = encodeGrpcInferResponse(response, { raw: true });
    expect(message.raw_output_contents).toHaveLength(tensors.length);
    const f32 = message.raw_output_contents![9] as Buffer;
    expect(f32.buffer).toBe((tensors[9]!.data as Float32Array).buffer);
    expect(message.outputs!.every((o) => o.contents === undefined)).toBe(true);
    const back = decodeGrpcInferResponse(overWireResponse(message));
    expect(back.outputs.map(plain)).toEqual(response.outputs.map(plain));
    expect(back).toMatchObject({ modelName: 'm', modelVersion: '1', id: 'r', parameters: { n: 3 } });
  });

  it('encodes typed contents when the request was not raw', () => {
    const message = encodeGrpcInferResponse(response, { raw: false });
    expect(message.raw_output_contents).toBeUndefined();
    const wire = overWireResponse(message);
    expect(wire.outputs[0]!.contents!.bool_contents).toEqual([true, false]);
    expect(wire.outputs[8]!.contents!.int64_contents).toEqual(['-9223372036854775808', '9007199254740993']);
    expect(decodeGrpcInferResponse(wire).outputs.map(plain)).toEqual(response.outputs.map(plain));
  });

  it('forces raw for the whole response when an output is FP16 or BF16', () => {
    const message = encodeGrpcInferResponse({ ...response, outputs: [tensors[0]!, ...halfTensors] }, { raw: false });
    expect(message.raw_output_contents).toHaveLength(3);
    const back = decodeGrpcInferResponse(overWireResponse(message));
    expect(back.outputs.map(plain)).toEqual([tensors[0]!, ...halfTensors].map(plain));
  });

  it('rejects malformed responses from a server as requests are rejected', () => {
    const count = failure(() =>
      decodeGrpcInferResponse(overWireResponse({ outputs: [{ name: 'y', datatype: 'FP32', shape: [1] }], raw_output_contents: [] })),
    );
    expect(count.code).toBe('SIBYL_GRPC_INPUT_NO_DATA');
    const both = failure(() =>
      decodeGrpcInferResponse(
        overWireResponse({
          outputs: [{ name: 'y', datatype: 'FP32', shape: [1], contents: { fp32_contents: [1] } }],
          raw_output_contents: [Buffer.alloc(4)],
        }),
      ),
    );
    expect(both.code).toBe('SIBYL_GRPC_CONTENTS_WITH_RAW');
    const mismatch = failure(() =>
      decodeGrpcInferResponse(
        overWireResponse({ outputs: [{ name: 'y', datatype: 'FP32', shape: [1] }], raw_output_contents: [Buffer.alloc(4), Buffer.alloc(4)] }),
      ),
    );
    expect(mismatch.code).toBe('SIBYL_GRPC_RAW_COUNT');
    expect(failure(() => decodeGrpcInferResponse(overWireResponse({ outputs: [{ name: 'y', datatype: 'FP32', shape: [1] }], raw_output_contents: [Buffer.alloc(3)] }))).message).toBe(
      "output 'y': expected 4 bytes for FP32 shape [1], got 3",
    );
  });
});

describe('gRPC parameters', () => {
  it('converts every InferParameter choice, keeping int64 exact', () => {
    expect(
      parametersFromGrpc({
        b: { parameter_choice: 'bool_param', bool_param: true },
        i: { parameter_choice: 'int64_param', int64_param: '-5' },
        big: { parameter_choice: 'int64_param', int64_param: '-9223372036854775808' },
        u: { parameter_choice: 'uint64_param', uint64_param: '18446744073709551615' },
        d: { parameter_choice: 'double_param', double_param: 0.25 },
        s: { parameter_choice: 'string_param', string_param: 'x' },
      }),
    ).toEqual({ b: true, i: -5, big: -9223372036854775808n, u: 18446744073709551615n, d: 0.25, s: 'x' });
    expect(parametersFromGrpc(undefined)).toBeUndefined();
    expect(parametersFromGrpc({})).toBeUndefined();
  });

  it('rejects a parameter with no value set', () => {
    const err = failure(() => parametersFromGrpc({ k: {} }, 'inputs[0].parameters'));
    expect(err.code).toBe('SIBYL_REQUEST_FIELD_MISSING');
    expect(err.message).toBe("missing required field 'inputs[0].parameters.k.parameter_choice'");
  });

  it('round-trips through the wire', () => {
    const parameters = { b: false, i: 7, neg: -9223372036854775808n, u: 18446744073709551615n, d: 1.5, s: '' };
    const grpc = parametersToGrpc(parameters);
    expect(grpc!['u']).toEqual({ parameter_choice: 'uint64_param', uint64_param: '18446744073709551615' });
    expect(grpc!['d']).toEqual({ parameter_choice: 'double_param', double_param: 1.5 });
    const wire = overWireRequest({ parameters: grpc });
    expect(parametersFromGrpc(wire.parameters)).toEqual(parameters);
    expect(parametersToGrpc(undefined)).toBeUndefined();
    expect(parametersToGrpc({})).toBeUndefined();
  });
});
