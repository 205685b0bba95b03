import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TensorMetadata } from './messages.js';
import { decodeRestInferRequest, isRawRequest, type RestDecodeOptions } from './rest-codec.js';
import { SibylError } from './sibyl-error.js';

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const decode = (body: Buffer, options: Partial<RestDecodeOptions> = {}) =>
  decodeRestInferRequest(body, { modelName: 'm', ...options });

function failure(fn: () => unknown): SibylError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SibylError);
    expect((err as SibylError).httpStatus).toBe(400);
    return err as SibylError;
  }
  throw new Error('expected a SibylError');
}

/** A binary-extension body: JSON header then blobs; returns it with its header length. */
function framed(header: unknown, ...blobs: Uint8Array[]): [Buffer, string] {
  const head = json(header);
  return [Buffer.concat([head, ...blobs]), String(head.length)];
}

const input = (extra: Record<string, unknown>) => ({ name: 'x', datatype: 'FP32', shape: [2], ...extra });

describe('decodeRestInferRequest: JSON', () => {
  it('decodes id, parameters, nested data and requested outputs, ignoring unknown fields', () => {
    const body = json({
      id: '42',
      parameters: { binary_data_output: true, priority: 1, tag: 'a' },
      inputs: [
        { name: 'x', datatype: 'FP32', shape: [2, 2], data: [[1, 2], [3, 4]], parameters: { note: 'n' } },
        { name: 'b', datatype: 'BOOL', shape: [1], data: [true] },
      ],
      outputs: [{ name: 'y', parameters: { binary_data: false } }, { name: 'z' }],
      something_else: { ignored: [1, 2] },
    });
    const request = decode(body, { modelVersion: '3' });
    expect(request).toEqual({
      modelName: 'm',
      modelVersion: '3',
      id: '42',
      parameters: { binary_data_output: true, priority: 1, tag: 'a' },
      inputs: [
        { name: 'x', datatype: 'FP32', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]), parameters: { note: 'n' } },
        { name: 'b', datatype: 'BOOL', shape: [1], data: new Uint8Array([1]) },
      ],
      outputs: [{ name: 'y', parameters: { binary_data: false } }, { name: 'z' }],
    });
    expect(decode(json({ inputs: [] }))).toEqual({ modelName: 'm', inputs: [] });
  });

  it('keeps INT64 and UINT64 values exact', () => {
    const body = Buffer.from(
      '{"inputs":[{"name":"i","datatype":"INT64","shape":[2],"data":[-9223372036854775808,9007199254740993]},' +
        '{"name":"u","datatype":"UINT64","shape":[1],"data":[18446744073709551615]}]}',
    );
    const [i, u] = decode(body).inputs;
    expect(i!.data).toEqual(new BigInt64Array([-9223372036854775808n, 9007199254740993n]));
    expect(u!.data).toEqual(new BigUint64Array([18446744073709551615n]));
  });

  it('rejects malformed JSON and a body that is not an object', () => {
    expect(failure(() => decode(Buffer.from('{"inputs":[}'))).code).toBe('SIBYL_JSON_MALFORMED');
    expect(failure(() => decode(Buffer.from(''))).message).toMatch(/^malformed JSON: /);
    expect(failure(() => decode(Buffer.from('{"inputs":[12345678901234567,]}'))).code).toBe('SIBYL_JSON_MALFORMED');
    const array = failure(() => decode(json([1])));
    expect(array.code).toBe('SIBYL_REQUEST_FIELD_TYPE');
    expect(array.message).toBe("field 'body': expected an object, got array of 1");
  });

  it('names the missing or ill-typed field by its path', () => {
    const cases: [unknown, string, string][] = [
      [{}, 'SIBYL_REQUEST_FIELD_MISSING', "missing required field 'inputs'"],
      [{ inputs: {} }, 'SIBYL_REQUEST_FIELD_TYPE', "field 'inputs': expected an array, got object"],
      [{ id: 7, inputs: [] }, 'SIBYL_REQUEST_FIELD_TYPE', "field 'id': expected a string, got number 7"],
      [{ parameters: [], inputs: [] }, 'SIBYL_REQUEST_FIELD_TYPE', "field 'parameters': expected an object, got array of 0"],
      [
        { parameters: { a: { b: 1 } }, inputs: [] },
        'SIBYL_REQUEST_FIELD_TYPE',
        "field 'parameters.a': expected a string, number or boolean, got object",
      ],
      [{ inputs: [input({ data: [1, 2] }), 3] }, 'SIBYL_REQUEST_FIELD_TYPE', "field 'inputs[1]': expected an object, got number 3"],
      [{ inputs: [{ datatype: 'FP32', shape: [1], data: [1] }] }, 'SIBYL_REQUEST_FIELD_MISSING', "missing required field 'inputs[0].name'"],
      [{ inputs: [{ name: 'x', shape: [1], data: [1] }] }, 'SIBYL_REQUEST_FIELD_MISSING', "missing required field 'inputs[0].datatype'"],
      [{ inputs: [{ name: 'x', datatype: 'FP32', data: [1] }] }, 'SIBYL_REQUEST_FIELD_MISSING', "missing required field 'inputs[0].shape'"],
      [{ inputs: [input({ shape: 2, data: [1, 2] })] }, 'SIBYL_REQUEST_FIELD_TYPE', "field 'inputs[0].shape': expected an array, got number 2"],
      [{ inputs: [input({ name: 5, data: [1, 2] })] }, 'SIBYL_REQUEST_FIELD_TYPE', "field 'inputs[0].name': expected a string, got number 5"],
      [
        { inputs: [input({ parameters: { p: null }, data: [1, 2] })] },
        'SIBYL_REQUEST_FIELD_TYPE',
        "field 'inputs[0].parameters.p': expected a string, number or boolean, got null",
      ],
      [{ inputs: [], outputs: 'y' }, 'SIBYL_REQUEST_FIELD_TYPE', "field 'outputs': expected an array, got string \"y\""],
      [{ inputs: [], outputs: [{}] }, 'SIBYL_REQUEST_FIELD_MISSING', "missing required field 'outputs[0].name'"],
      [
        { inputs: [], outputs: [{ name: 'y', parameters: 1 }] },
        'SIBYL_REQUEST_FIELD_TYPE',
        "field 'outputs[0].parameters': expected an object, got number 1",
      ],
    ];
    for (const [body, code, message] of cases) {
      const err = failure(() => decode(json(body)));
      expect(err.code, message).toBe(code);
      expect(err.message).toBe(message);
    }
  });

  it('rejects unknown datatypes and shapes with negative or non-integer dimensions', () => {
    const unknown = failure(() => decode(json({ inputs: [input({ datatype: 'FLOAT32', data: [1, 2] })] })));
    expect(unknown.code).toBe('SIBYL_TENSOR_DATATYPE_UNKNOWN');
    expect(unknown.message).toMatch(/^input 'x': unknown datatype 'FLOAT32'; expected one of BOOL, UINT8/);
    for (const [shape, got] of [[[2, -1], 'number -1'], [[1.5], 'number 1.5'], [['2'], 'string "2"'], [[null], 'null']] as const) {
      const err = failure(() => decode(json({ inputs: [input({ shape, data: [] })] })));
      expect(err.code).toBe('SIBYL_TENSOR_SHAPE_INVALID');
      expect(err.message).toContain(`must be a non-negative integer, got ${got}`);
    }
    const huge = failure(() => decode(Buffer.from('{"inputs":[{"name":"x","datatype":"FP32","shape":[99999999999999999999],"data":[]}]}')));
    expect(huge.code).toBe('SIBYL_TENSOR_SHAPE_INVALID');
  });

  it('reports data errors with the tensor name', () => {
    const err = failure(() => decode(json({ inputs: [input({ data: [1, 'a'] })] })));
    expect(err.message).toBe("input 'x': element 1 of FP32 data must be a number, got string \"a\"");
    expect(failure(() => decode(json({ inputs: [input({ data: [1] })] }))).code).toBe('SIBYL_TENSOR_ELEMENT_COUNT');
    expect(failure(() => decode(json({ inputs: [input({ data: null })] }))).code).toBe('SIBYL_TENSOR_DATA_NOT_ARRAY');
  });

  it('rejects an input with both or neither of data and binary_data_size', () => {
    const both = failure(() => decode(json({ inputs: [input({ data: [1, 2], parameters: { binary_data_size: 8 } })] })));
    expect(both.code).toBe('SIBYL_BINARY_INPUT_DATA_SOURCE');
    expect(both.message).toBe("input 'x': must set exactly one of 'data' and 'binary_data_size' in 'parameters', but sets both");
    const neither = failure(() => decode(json({ inputs: [input({})] })));
    expect(neither.message).toContain('but sets neither');
  });
});

describe('decodeRestInferRequest: binary extension', () => {
  it('reads blobs in the order of the inputs that carry binary_data_size, between JSON inputs', () => {
    const floats = new Float32Array([1.5, -2]);
    const ints = new BigInt64Array([9007199254740993n]);
    const strings = Buffer.from([1, 0, 0, 0, 0x61]);
    const [body, headerLength] = framed(
      {
        inputs: [
          input({ parameters: { binary_data_size: 8, keep: true } }),
          { name: 'j', datatype: 'INT32', shape: [1], data: [7] },
          { name: 'i', datatype: 'INT64', shape: [1], parameters: { binary_data_size: 8 } },
          { name: 's', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: 5 } },
        ],
      },
      new Uint8Array(floats.buffer),
      new Uint8Array(ints.buffer),
      strings,
    );
    const request = decode(body, { headerLength });
    const [x, j, i, s] = request.inputs;
    expect(x).toEqual({ name: 'x', datatype: 'FP32', shape: [2], data: floats, parameters: { keep: true } });
    expect(j!.data).toEqual(new Int32Array([7]));
    expect(i).toEqual({ name: 'i', datatype: 'INT64', shape: [1], data: ints });
    expect((s!.data as Uint8Array[]).map((e) => Buffer.from(e).toString())).toEqual(['a']);
  });

  it('accepts a header length equal to the body (no blobs) and surrounding whitespace', () => {
    const body = json({ inputs: [input({ data: [1, 2] })] });
    expect(decode(body, { headerLength: ` ${body.length} ` }).inputs).toHaveLength(1);
  });

  it('rejects an Inference-Header-Content-Length that is not a decimal integer', () => {
    const body = json({ inputs: [] });
    for (const value of ['abc', '-1', '1.5', '', '0x10', '1e3']) {
      const err = failure(() => decode(body, { headerLength: value }));
      expect(err.code, value).toBe('SIBYL_BINARY_HEADER_LENGTH_INVALID');
    }
    expect(failure(() => decode(body, { headerLength: 'abc' })).message).toBe(
      "Inference-Header-Content-Length 'abc' is not a decimal integer",
    );
  });

  it('rejects an Inference-Header-Content-Length past the body', () => {
    const body = json({ inputs: [] });
    for (const value of [String(body.length + 1), '99999999999', '99999999999999999999999']) {
      const err = failure(() => decode(body, { headerLength: value }));
      expect(err.code).toBe('SIBYL_BINARY_HEADER_LENGTH_PAST_BODY');
    }
    expect(failure(() => decode(body, { headerLength: '99999999999' })).message).toBe(
      `Inference-Header-Content-Length 99999999999 exceeds the body length ${body.length}`,
    );
  });

  it('rejects binary_data_size past the body, also when no header length was sent', () => {
    const [body, headerLength] = framed({ inputs: [input({ parameters: { binary_data_size: 8 } })] }, new Uint8Array(4));
    const err = failure(() => decode(body, { headerLength }));
    expect(err.code).toBe('SIBYL_BINARY_DATA_PAST_BODY');
    expect(err.message).toBe(
      `input 'x': binary_data_size 8 at body offset ${headerLength} runs past the end of the ${body.length}-byte body`,
    );
    const jsonOnly = json({ inputs: [input({ parameters: { binary_data_size: 8 } })] });
    expect(failure(() => decode(jsonOnly)).code).toBe('SIBYL_BINARY_DATA_PAST_BODY');
  });

  it('rejects a binary_data_size that is not a non-negative integer', () => {
    for (const size of [-1, 1.5, '8', true]) {
      const [body, headerLength] = framed({ inputs: [input({ parameters: { binary_data_size: size } })] }, new Uint8Array(8));
      const err = failure(() => decode(body, { headerLength }));
      expect(err.code).toBe('SIBYL_PARAMETER_TYPE');
      expect(err.message).toContain("parameter 'inputs[0].parameters.binary_data_size': expected a non-negative integer");
    }
  });

  it('rejects a blob that does not match shape × datatype', () => {
    const [body, headerLength] = framed({ inputs: [input({ parameters: { binary_data_size: 4 } })] }, new Uint8Array(4));
    const err = failure(() => decode(body, { headerLength }));
    expect(err.code).toBe('SIBYL_TENSOR_BYTE_SIZE');
    expect(err.message).toBe("input 'x': expected 8 bytes for FP32 shape [2], got 4");
  });

  it('rejects trailing bytes no input claims', () => {
    const [body, headerLength] = framed({ inputs: [input({ parameters: { binary_data_size: 8 } })] }, new Uint8Array(11));
    const err = failure(() => decode(body, { headerLength }));
    expect(err.code).toBe('SIBYL_BINARY_TRAILING_BYTES');
    expect(err.message).toBe("3 bytes at the end of the body belong to no input's binary_data_size");
  });

  it('round-trips random FP32 and INT64 blobs exactly, at any offset', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 9 }), fc.float32Array({ maxLength: 20 }), fc.bigInt64Array({ maxLength: 20 }), (id, f, b) => {
        const [body, headerLength] = framed(
          {
            id,
            inputs: [
              { name: 'f', datatype: 'FP32', shape: [f.length], parameters: { binary_data_size: f.byteLength } },
              { name: 'b', datatype: 'INT64', shape: [b.length], parameters: { binary_data_size: b.byteLength } },
            ],
          },
          new Uint8Array(f.buffer),
          new Uint8Array(b.buffer),
        );
        const request = decode(body, { headerLength });
        expect(request.id).toBe(id);
        expect(Array.from(request.inputs[0]!.data as Float32Array)).toEqual(Array.from(f));
        expect(request.inputs[1]!.data).toEqual(b);
      }),
    );
  });
});

describe('decodeRestInferRequest: raw binary requests', () => {
  const fp32: TensorMetadata = { name: 'INPUT0', datatype: 'FP32', shape: [-1, 2] };

  it('takes the whole body as the single input, deducing the variable dimension', () => {
    const floats = new Float32Array([1, 2, 3, 4, 5, 6]);
    const request = decode(Buffer.from(floats.buffer), { headerLength: '0', rawInput: fp32, modelVersion: '2' });
    expect(request).toEqual({
      modelName: 'm',
      modelVersion: '2',
      parameters: { binary_data_output: true },
      inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [3, 2], data: floats }],
    });
    const fixed = decode(Buffer.from(new Int8Array([1, 2]).buffer), {
      headerLength: '0',
      rawInput: { name: 'i', datatype: 'INT8', shape: [2] },
    });
    expect(fixed.inputs[0]!.shape).toEqual([2]);
    const empty = decode(Buffer.alloc(0), { headerLength: '0', rawInput: { name: 'z', datatype: 'FP32', shape: [0, -1] } });
    expect(empty.inputs[0]!.shape).toEqual([0, 0]);
  });

  it('takes a BYTES body as one un-prefixed element', () => {
    const request = decode(Buffer.from('427'), { headerLength: '0', rawInput: { name: 's', datatype: 'BYTES', shape: [1] } });
    const input = request.inputs[0]!;
    expect(input.shape).toEqual([1]);
    expect(Buffer.from((input.data as Uint8Array[])[0]!).toString()).toBe('427');
  });

  it('rejects a body that is not a whole number of rows', () => {
    const err = failure(() => decode(Buffer.alloc(12), { headerLength: '0', rawInput: fp32 }));
    expect(err.code).toBe('SIBYL_RAW_SIZE_INDIVISIBLE');
    expect(err.message).toBe(
      "The shape of the raw input 'INPUT0' (FP32 [-1,2]) can not be deduced from a 12-byte body: it is not a multiple of 8 bytes",
    );
    const fixed = failure(() => decode(Buffer.alloc(3), { headerLength: '0', rawInput: { name: 'f', datatype: 'FP32', shape: [1] } }));
    expect(fixed.code).toBe('SIBYL_TENSOR_BYTE_SIZE');
  });

  it('rejects inputs whose shape cannot be deduced', () => {
    const variable = failure(() =>
      decode(Buffer.alloc(8), { headerLength: '0', rawInput: { name: 'INPUT0', datatype: 'FP16', shape: [-1, -1] } }),
    );
    expect(variable.code).toBe('SIBYL_RAW_VARIABLE_DIMS');
    const bytes = failure(() =>
      decode(Buffer.from('427'), { headerLength: '0', rawInput: { name: 'INPUT0', datatype: 'BYTES', shape: [-1] } }),
    );
    expect(bytes.code).toBe('SIBYL_RAW_BYTES_SHAPE');
  });

  it('is recognised from the header value as the decoder parses it', () => {
    for (const value of ['0', '00', ' 0 ']) expect(isRawRequest(value), value).toBe(true);
    for (const value of [undefined, '', '10', 'x0', '0.0']) expect(isRawRequest(value), String(value)).toBe(false);
    const floats = new Float32Array([1, 2]);
    expect(decode(Buffer.from(floats.buffer), { headerLength: '00', rawInput: fp32 }).inputs[0]!.data).toEqual(floats);
  });

  it('needs the input metadata from the caller', () => {
    expect(() => decode(Buffer.alloc(8), { headerLength: '0' })).toThrow(TypeError);
  });
});
