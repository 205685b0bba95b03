/**
 * The bytes of v2 tensors and of Triton's binary tensor data extension (protocols.md §B), written
 * from the spec for the tests and deliberately not shared with the server's codec: if both sides
 * used one implementation, a mistake in it would cancel out.
 *
 * Tensor bytes: little-endian, row-major, no padding; BOOL one byte 0/1; FP16 IEEE half; BYTES one
 * uint32-LE length prefix plus the raw bytes per element.
 * Request/response body: `<JSON header><blob 1><blob 2>…`, `Inference-Header-Content-Length` = the
 * header's byte length, blobs in the order of the tensors that carry `binary_data_size`.
 */
import { parseJson, stringifyJson, type JsonValue } from './json.js';

export type Dtype =
  | 'BOOL'
  | 'UINT8'
  | 'UINT16'
  | 'UINT32'
  | 'UINT64'
  | 'INT8'
  | 'INT16'
  | 'INT32'
  | 'INT64'
  | 'FP16'
  | 'FP32'
  | 'FP64'
  | 'BYTES';

/** One element as the tests hold it: integers that need 64 bits as bigint, BYTES as Buffer. */
export type Element = boolean | number | bigint | Buffer;

const SIZE: Record<Exclude<Dtype, 'BYTES'>, number> = {
  BOOL: 1,
  UINT8: 1,
  INT8: 1,
  UINT16: 2,
  INT16: 2,
  FP16: 2,
  UINT32: 4,
  INT32: 4,
  FP32: 4,
  UINT64: 8,
  INT64: 8,
  FP64: 8,
};

/** IEEE 754 binary16 bits → number. */
export function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/**
 * number → IEEE 754 binary16 bits. The tests only send values a half holds exactly, so this refuses
 * anything else instead of rounding (a rounding rule here would be one more thing to get wrong).
 */
export function numberToHalf(value: number): number {
  if (Number.isNaN(value)) return 0x7e00;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const abs = Math.abs(value);
  if (abs === Infinity) return sign | 0x7c00;
  if (abs === 0) return sign;
  for (let bits = 1; bits < 0x7c00; bits++) {
    // Linear search over 31k patterns is fine for a handful of test values.
    if (halfToNumber(bits) === abs) return sign | bits;
  }
  throw new Error(`${value} is not exactly representable as FP16`);
}

/** Encodes elements of `datatype` as raw tensor bytes (BYTES with 4-byte length prefixes). */
export function encodeTensor(datatype: Dtype, values: readonly Element[]): Buffer {
  if (datatype === 'BYTES') {
    const parts: Buffer[] = [];
    for (const v of values) {
      const bytes = Buffer.isBuffer(v) ? v : Buffer.from(String(v), 'utf8');
      const len = Buffer.alloc(4);
      len.writeUInt32LE(bytes.length, 0);
      parts.push(len, bytes);
    }
    return Buffer.concat(parts);
  }
  const size = SIZE[datatype];
  const out = Buffer.alloc(size * values.length);
  values.forEach((v, i) => {
    const at = i * size;
    switch (datatype) {
      case 'BOOL':
        out.writeUInt8(v ? 1 : 0, at);
        break;
      case 'UINT8':
        out.writeUInt8(Number(v), at);
        break;
      case 'INT8':
        out.writeInt8(Number(v), at);
        break;
      case 'UINT16':
        out.writeUInt16LE(Number(v), at);
        break;
      case 'INT16':
        out.writeInt16LE(Number(v), at);
        break;
      case 'FP16':
        out.writeUInt16LE(numberToHalf(Number(v)), at);
        break;
      case 'UINT32':
        out.writeUInt32LE(Number(v), at);
        break;
      case 'INT32':
        out.writeInt32LE(Number(v), at);
        break;
      case 'FP32':
        out.writeFloatLE(Number(v), at);
        break;
      case 'UINT64':
        out.writeBigUInt64LE(BigInt(v as number | bigint), at);
        break;
      case 'INT64':
        out.writeBigInt64LE(BigInt(v as number | bigint), at);
        break;
      case 'FP64':
        out.writeDoubleLE(Number(v), at);
        break;
    }
  });
  return out;
}

/**
 * Decodes raw tensor bytes. 64-bit integers come back as bigint, BOOL as boolean, BYTES as Buffer.
 * Throws when the length does not fit the datatype (a fixed-size tensor with a partial element, a
 * BYTES element running past the end).
 */
export function decodeTensor(datatype: Dtype, bytes: Uint8Array): Element[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Element[] = [];
  if (datatype === 'BYTES') {
    let at = 0;
    while (at < buf.length) {
      if (at + 4 > buf.length) throw new Error(`BYTES length prefix cut short at byte ${at}`);
      const len = buf.readUInt32LE(at);
      at += 4;
      if (at + len > buf.length) throw new Error(`BYTES element of ${len} bytes runs past the end at byte ${at}`);
      out.push(Buffer.from(buf.subarray(at, at + len)));
      at += len;
    }
    return out;
  }
  const size = SIZE[datatype];
  if (buf.length % size !== 0) throw new Error(`${buf.length} bytes is not a whole number of ${datatype} elements`);
  for (let at = 0; at < buf.length; at += size) {
    switch (datatype) {
      case 'BOOL': {
        const b = buf.readUInt8(at);
        if (b > 1) throw new Error(`BOOL byte ${b} at ${at} is neither 0 nor 1`);
        out.push(b === 1);
        break;
      }
      case 'UINT8':
        out.push(buf.readUInt8(at));
        break;
      case 'INT8':
        out.push(buf.readInt8(at));
        break;
      case 'UINT16':
        out.push(buf.readUInt16LE(at));
        break;
      case 'INT16':
        out.push(buf.readInt16LE(at));
        break;
      case 'FP16':
        out.push(halfToNumber(buf.readUInt16LE(at)));
        break;
      case 'UINT32':
        out.push(buf.readUInt32LE(at));
        break;
      case 'INT32':
        out.push(buf.readInt32LE(at));
        break;
      case 'FP32':
        out.push(buf.readFloatLE(at));
        break;
      case 'UINT64':
        out.push(buf.readBigUInt64LE(at));
        break;
      case 'INT64':
        out.push(buf.readBigInt64LE(at));
        break;
      case 'FP64':
        out.push(buf.readDoubleLE(at));
        break;
    }
  }
  return out;
}

/** A framed binary-extension body: the JSON header, then each blob in order. */
export interface BinaryBody {
  body: Buffer;
  /** The value of Inference-Header-Content-Length. */
  headerLength: number;
}

/** Frames a request: `header` is the JSON request object (bigints allowed), `blobs` follow it. */
export function frameBinaryBody(header: unknown, blobs: readonly Uint8Array[]): BinaryBody {
  const json = Buffer.from(stringifyJson(header), 'utf8');
  return { body: Buffer.concat([json, ...blobs]), headerLength: json.length };
}

export interface ParsedBinaryResponse {
  /** The JSON header (or the whole JSON body), parsed with 64-bit integers kept exact. */
  json: { [key: string]: JsonValue };
  /** The blob of each output that carried parameters.binary_data_size, by output name. */
  blobs: Map<string, Buffer>;
}

/**
 * Splits a response body. With `headerLength` undefined the whole body is JSON. Checks that every
 * binary_data_size is a non-negative integer and that the blobs exactly fill the rest of the body.
 */
export function parseBinaryResponse(body: Buffer, headerLength: number | undefined): ParsedBinaryResponse {
  const jsonEnd = headerLength ?? body.length;
  if (jsonEnd > body.length) throw new Error(`Inference-Header-Content-Length ${jsonEnd} exceeds the body (${body.length} bytes)`);
  const json = parseJson(body.subarray(0, jsonEnd).toString('utf8')) as { [key: string]: JsonValue };
  const blobs = new Map<string, Buffer>();
  let at = jsonEnd;
  const outputs = (json['outputs'] ?? []) as Array<{ [key: string]: JsonValue }>;
  for (const output of outputs) {
    const params = output['parameters'] as { [key: string]: JsonValue } | undefined;
    const size = params?.['binary_data_size'];
    if (size === undefined) continue;
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 0) {
      throw new Error(`output ${String(output['name'])}: binary_data_size ${String(size)} is not a non-negative integer`);
    }
    if (at + size > body.length) throw new Error(`output ${String(output['name'])}: blob runs past the body`);
    blobs.set(String(output['name']), body.subarray(at, at + size));
    at += size;
  }
  if (at !== body.length) throw new Error(`${body.length - at} bytes after the last blob belong to no output`);
  return { json, blobs };
}
