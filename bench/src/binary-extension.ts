/**
 * A client's side of Triton's binary tensor data extension (spec/protocols.md §B), written here
 * rather than imported from @sibyl/protocol so the bench checks the server against the spec and
 * not against the server's own codec.
 */

export const HEADER_LENGTH = 'inference-header-content-length';

export interface BinaryInput {
  name: string;
  datatype: string;
  shape: number[];
  bytes: Uint8Array;
}

/**
 * The body and headers of an infer request whose inputs all travel as binary, with every output
 * asked for as binary (`binary_data_output: true`). The body is built once and reused.
 */
export function encodeBinaryRequest(inputs: readonly BinaryInput[]): { body: Buffer; headers: Record<string, string> } {
  const header = Buffer.from(
    JSON.stringify({
      inputs: inputs.map((t) => ({ name: t.name, shape: t.shape, datatype: t.datatype, parameters: { binary_data_size: t.bytes.byteLength } })),
      parameters: { binary_data_output: true },
    }),
  );
  const body = Buffer.concat([header, ...inputs.map((t) => t.bytes)]);
  return {
    body,
    headers: { 'content-type': 'application/octet-stream', [HEADER_LENGTH]: String(header.byteLength) },
  };
}

export interface DecodedOutput {
  name: string;
  datatype: string;
  shape: number[];
  /** The output's blob when it came as binary (a view into the response body), else undefined. */
  bytes?: Buffer;
  /** The JSON `data` when it came as JSON. */
  data?: unknown[];
}

interface JsonOutput {
  name: string;
  datatype: string;
  shape: number[];
  parameters?: { binary_data_size?: number };
  data?: unknown[];
}

/**
 * Splits a v2 REST response into its outputs. `headerLength` is the response's
 * Inference-Header-Content-Length (undefined for a pure JSON response). Throws when the blobs do
 * not add up to the body.
 */
export function decodeResponse(body: Buffer, headerLength: string | string[] | undefined): DecodedOutput[] {
  const raw = Array.isArray(headerLength) ? headerLength[0] : headerLength;
  const jsonLength = raw === undefined ? body.byteLength : Number(raw);
  if (!Number.isInteger(jsonLength) || jsonLength < 0 || jsonLength > body.byteLength) {
    throw new Error(`bad ${HEADER_LENGTH} '${raw}' for a ${body.byteLength}-byte body`);
  }
  const header = JSON.parse(body.subarray(0, jsonLength).toString('utf8')) as { outputs?: JsonOutput[] };
  if (!Array.isArray(header.outputs)) throw new Error(`response has no outputs: ${body.subarray(0, Math.min(jsonLength, 300)).toString()}`);
  let offset = jsonLength;
  const out: DecodedOutput[] = [];
  for (const o of header.outputs) {
    const size = o.parameters?.binary_data_size;
    if (size !== undefined) {
      if (offset + size > body.byteLength) throw new Error(`output ${o.name}: binary_data_size ${size} runs past the body`);
      out.push({ name: o.name, datatype: o.datatype, shape: o.shape, bytes: body.subarray(offset, offset + size) });
      offset += size;
    } else {
      out.push({ name: o.name, datatype: o.datatype, shape: o.shape, data: o.data ?? [] });
    }
  }
  if (offset !== body.byteLength) throw new Error(`${body.byteLength - offset} bytes after the last binary output`);
  return out;
}

/** Reads a little-endian FP32 or INT64 blob as numbers (copying, so any alignment works). */
export function blobToNumbers(datatype: string, bytes: Uint8Array): number[] {
  const copy = new Uint8Array(bytes);
  switch (datatype) {
    case 'FP32':
      return Array.from(new Float32Array(copy.buffer, 0, copy.byteLength / 4));
    case 'INT64':
      return Array.from(new BigInt64Array(copy.buffer, 0, copy.byteLength / 8), Number);
    case 'INT32':
      return Array.from(new Int32Array(copy.buffer, 0, copy.byteLength / 4));
    case 'FP64':
      return Array.from(new Float64Array(copy.buffer, 0, copy.byteLength / 8));
    default:
      throw new Error(`the bench does not decode ${datatype}`);
  }
}
