import { describe, expect, it } from 'vitest';
import type { InferRequest, ModelMetadata } from './messages.js';
import { SibylError } from './sibyl-error.js';
import type { Tensor } from './tensor.js';
import { checkRawInput, rawInputOf, validateInferRequest } from './validate.js';

const iris: ModelMetadata = {
  name: 'iris',
  versions: ['1'],
  platform: 'onnxruntime_onnx',
  inputs: [
    { name: 'x', datatype: 'FP32', shape: [-1, 4] },
    { name: 'mask', datatype: 'BOOL', shape: [-1] },
  ],
  outputs: [
    { name: 'label', datatype: 'INT64', shape: [-1] },
    { name: 'probs', datatype: 'FP32', shape: [-1, 3] },
  ],
};

const x = (): Tensor => ({ name: 'x', datatype: 'FP32', shape: [2, 4], data: new Float32Array(8) });
const mask = (): Tensor => ({ name: 'mask', datatype: 'BOOL', shape: [2], data: new Uint8Array(2) });

function request(patch: Partial<InferRequest> = {}): InferRequest {
  return { modelName: 'iris', inputs: [x(), mask()], ...patch };
}

function codeOf(fn: () => void): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SibylError);
    expect((err as SibylError).category).toBe('INVALID_ARGUMENT');
    return (err as SibylError).code;
  }
  throw new Error('expected a SibylError');
}

function messageOf(fn: () => void): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected an error');
}

describe('validateInferRequest', () => {
  it('accepts a request that fits the model, in any input order, with or without outputs', () => {
    expect(() => validateInferRequest(request(), iris)).not.toThrow();
    expect(() => validateInferRequest(request({ inputs: [mask(), x()] }), iris)).not.toThrow();
    expect(() =>
      validateInferRequest(
        request({ outputs: [{ name: 'probs', parameters: { binary_data: true } }], parameters: { binary_data_output: false } }),
        iris,
      ),
    ).not.toThrow();
    expect(() => validateInferRequest(request({ outputs: [] }), iris)).not.toThrow();
  });

  it('rejects an unknown input and names the known ones', () => {
    const req = request({ inputs: [x(), mask(), { ...mask(), name: 'y' }] });
    expect(codeOf(() => validateInferRequest(req, iris))).toBe('SIBYL_INPUT_UNKNOWN');
    expect(messageOf(() => validateInferRequest(req, iris))).toBe(
      "unexpected input 'y' for model 'iris'; its inputs are 'x', 'mask'",
    );
  });

  it('rejects a missing input', () => {
    const fn = () => validateInferRequest(request({ inputs: [x()] }), iris);
    expect(codeOf(fn)).toBe('SIBYL_INPUT_MISSING');
    expect(messageOf(fn)).toContain("'mask'");
  });

  it('rejects a duplicate input', () => {
    const fn = () => validateInferRequest(request({ inputs: [x(), x()] }), iris);
    expect(codeOf(fn)).toBe('SIBYL_INPUT_DUPLICATE');
  });

  it('rejects a datatype the model does not declare, and an unknown datatype', () => {
    const wrong = { ...x(), datatype: 'FP64' as const, data: new Float64Array(8) };
    expect(codeOf(() => validateInferRequest(request({ inputs: [wrong, mask()] }), iris))).toBe(
      'SIBYL_INPUT_DATATYPE_MISMATCH',
    );
    const unknown = { ...x(), datatype: 'FLOAT' as unknown as 'FP32' };
    expect(codeOf(() => validateInferRequest(request({ inputs: [unknown, mask()] }), iris))).toBe(
      'SIBYL_TENSOR_DATATYPE_UNKNOWN',
    );
  });

  it('rejects a wrong rank and a wrong fixed dimension; -1 matches any size', () => {
    const rank = { ...x(), shape: [8] };
    expect(messageOf(() => validateInferRequest(request({ inputs: [rank, mask()] }), iris))).toBe(
      "input 'x': shape [8] does not match model shape [-1,4]: expected rank 2, got 1",
    );
    const dim = { ...x(), shape: [4, 2] };
    expect(codeOf(() => validateInferRequest(request({ inputs: [dim, mask()] }), iris))).toBe(
      'SIBYL_INPUT_SHAPE_MISMATCH',
    );
    expect(messageOf(() => validateInferRequest(request({ inputs: [dim, mask()] }), iris))).toContain(
      'dimension 1 must be 4, got 2',
    );
    const batch = { ...x(), shape: [0, 4], data: new Float32Array(0) };
    expect(() => validateInferRequest(request({ inputs: [batch, { ...mask(), shape: [0], data: new Uint8Array(0) }] }), iris)).not.toThrow();
  });

  it('rejects negative and non-integer dimensions', () => {
    for (const dim of [-1, 1.5, Number.NaN]) {
      const bad = { ...x(), shape: [dim, 4] };
      expect(codeOf(() => validateInferRequest(request({ inputs: [bad, mask()] }), iris))).toBe(
        'SIBYL_TENSOR_SHAPE_INVALID',
      );
    }
  });

  it('rejects data whose length does not match the shape', () => {
    const short = { ...x(), data: new Float32Array(7) };
    expect(messageOf(() => validateInferRequest(request({ inputs: [short, mask()] }), iris))).toBe(
      "input 'x': expected 8 elements for shape [2,4], got 7",
    );
    const model: ModelMetadata = { ...iris, inputs: [{ name: 's', datatype: 'BYTES', shape: [-1] }] };
    const strings: Tensor = { name: 's', datatype: 'BYTES', shape: [3], data: [new Uint8Array(1)] };
    expect(codeOf(() => validateInferRequest({ modelName: 'm', inputs: [strings] }, model))).toBe(
      'SIBYL_TENSOR_ELEMENT_COUNT',
    );
  });

  it('rejects data held in the wrong array type', () => {
    const wrong = { ...x(), data: new Float64Array(8) };
    expect(messageOf(() => validateInferRequest(request({ inputs: [wrong, mask()] }), iris))).toBe(
      "input 'x': FP32 data must be held in a Float32Array, got Float64Array",
    );
    const model: ModelMetadata = { ...iris, inputs: [{ name: 's', datatype: 'BYTES', shape: [1] }] };
    const notArray: Tensor = { name: 's', datatype: 'BYTES', shape: [1], data: new Uint8Array(1) };
    expect(codeOf(() => validateInferRequest({ modelName: 'm', inputs: [notArray] }, model))).toBe(
      'SIBYL_TENSOR_DATA_ARRAY',
    );
  });

  it('rejects duplicate and unknown requested outputs', () => {
    expect(
      messageOf(() => validateInferRequest(request({ outputs: [{ name: 'label' }, { name: 'label' }] }), iris)),
    ).toBe("output 'label' already exists in request");
    expect(codeOf(() => validateInferRequest(request({ outputs: [{ name: 'nope' }] }), iris))).toBe(
      'SIBYL_OUTPUT_UNKNOWN',
    );
  });

  it("rejects reserved 'triton_' request parameters", () => {
    const fn = () => validateInferRequest(request({ parameters: { triton_x: 1 } }), iris);
    expect(codeOf(fn)).toBe('SIBYL_PARAMETER_RESERVED');
    expect(messageOf(fn)).toContain("'triton_x'");
  });

  it('rejects binary_data and binary_data_output that are not booleans', () => {
    expect(
      codeOf(() => validateInferRequest(request({ parameters: { binary_data_output: 'yes' } }), iris)),
    ).toBe('SIBYL_PARAMETER_TYPE');
    const fn = () => validateInferRequest(request({ outputs: [{ name: 'label', parameters: { binary_data: 1 } }] }), iris);
    expect(codeOf(fn)).toBe('SIBYL_PARAMETER_TYPE');
    expect(messageOf(fn)).toBe("parameter 'outputs[0].parameters.binary_data': expected a boolean, got number 1");
  });

  it('uses name indexes for models with many tensors and finds the same errors', () => {
    const names = Array.from({ length: 40 }, (_, i) => `in${i}`);
    const model: ModelMetadata = {
      ...iris,
      inputs: names.map((name) => ({ name, datatype: 'INT32', shape: [1] })),
      outputs: names.map((name) => ({ name: `out${name}`, datatype: 'INT32', shape: [1] })),
    };
    const inputs: Tensor[] = names.map((name) => ({ name, datatype: 'INT32', shape: [1], data: new Int32Array(1) }));
    const outputs = names.map((name) => ({ name: `out${name}` }));
    expect(() => validateInferRequest({ modelName: 'm', inputs, outputs }, model)).not.toThrow();
    expect(codeOf(() => validateInferRequest({ modelName: 'm', inputs: [...inputs, inputs[3]!] }, model))).toBe(
      'SIBYL_INPUT_DUPLICATE',
    );
    expect(codeOf(() => validateInferRequest({ modelName: 'm', inputs: inputs.slice(1) }, model))).toBe(
      'SIBYL_INPUT_MISSING',
    );
    const extra = { name: 'zz', datatype: 'INT32' as const, shape: [1], data: new Int32Array(1) };
    expect(codeOf(() => validateInferRequest({ modelName: 'm', inputs: [...inputs, extra] }, model))).toBe(
      'SIBYL_INPUT_UNKNOWN',
    );
    expect(
      codeOf(() => validateInferRequest({ modelName: 'm', inputs, outputs: [...outputs, outputs[0]!] }, model)),
    ).toBe('SIBYL_OUTPUT_DUPLICATE');
    expect(
      codeOf(() => validateInferRequest({ modelName: 'm', inputs, outputs: [...outputs, { name: 'q' }] }, model)),
    ).toBe('SIBYL_OUTPUT_UNKNOWN');
  });
});

describe('rawInputOf', () => {
  it('returns the single input of a model that can take a raw request', () => {
    expect(rawInputOf({ ...iris, inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }] }).name).toBe('x');
    expect(() => checkRawInput({ name: 's', datatype: 'BYTES', shape: [1] })).not.toThrow();
  });

  it('rejects a model with more than one input', () => {
    expect(codeOf(() => rawInputOf(iris))).toBe('SIBYL_RAW_INPUT_COUNT');
    expect(messageOf(() => rawInputOf(iris))).toBe(
      "raw request must be for a model with exactly 1 input, but model 'iris' has 2 inputs",
    );
  });

  it('rejects more than one variable dimension', () => {
    const fn = () => rawInputOf({ ...iris, inputs: [{ name: 'INPUT0', datatype: 'FP16', shape: [-1, -1] }] });
    expect(codeOf(fn)).toBe('SIBYL_RAW_VARIABLE_DIMS');
    expect(messageOf(fn)).toContain("The shape of the raw input 'INPUT0' can not be deduced");
  });

  it('rejects a BYTES input whose shape is not [1]', () => {
    for (const shape of [[-1], [2], [1, 1], []]) {
      const fn = () => checkRawInput({ name: 'INPUT0', datatype: 'BYTES', shape });
      expect(codeOf(fn)).toBe('SIBYL_RAW_BYTES_SHAPE');
    }
    expect(messageOf(() => checkRawInput({ name: 'INPUT0', datatype: 'BYTES', shape: [-1] }))).toContain(
      "For BYTE datatype raw input 'INPUT0', the model must have input shape [1]",
    );
  });
});
