/**
 * Tensor data in gRPC messages (protocols.md §C.4, §C.5), independent of the server's codec:
 * typed `InferTensorContents` fields per datatype, and reading an output from either
 * `raw_output_contents` or `contents`.
 */
import { decodeTensor, type Dtype, type Element } from './binary.js';
import type { Message } from './grpc-client.js';

/** The InferTensorContents field of each datatype; FP16 has none (raw only). */
export const CONTENTS_FIELD: Record<Dtype, string | undefined> = {
  BOOL: 'bool_contents',
  UINT8: 'uint_contents',
  UINT16: 'uint_contents',
  UINT32: 'uint_contents',
  UINT64: 'uint64_contents',
  INT8: 'int_contents',
  INT16: 'int_contents',
  INT32: 'int_contents',
  INT64: 'int64_contents',
  FP16: undefined,
  FP32: 'fp32_contents',
  FP64: 'fp64_contents',
  BYTES: 'bytes_contents',
};

/** `{ <field>: values }` for an input's `contents`; 64-bit integers as decimal strings. */
export function typedContents(datatype: Dtype, values: readonly Element[]): Message {
  const field = CONTENTS_FIELD[datatype];
  if (field === undefined) throw new Error(`${datatype} has no typed contents field`);
  const wire = values.map((v) => {
    if (datatype === 'UINT64' || datatype === 'INT64') return BigInt(v as number | bigint).toString();
    if (datatype === 'BYTES') return v as Buffer;
    return v;
  });
  return { [field]: wire };
}

export interface GrpcOutput {
  name: string;
  datatype: string;
  shape: number[];
  /** Where the data came from. */
  source: 'raw' | 'contents';
  values: Element[];
}

/** Reads every output of a ModelInferResponse, from raw_output_contents when present, else contents. */
export function grpcOutputs(response: Message): Map<string, GrpcOutput> {
  const outputs = (response['outputs'] ?? []) as Message[];
  const raw = (response['raw_output_contents'] ?? []) as Buffer[];
  if (raw.length > 0 && raw.length !== outputs.length) {
    throw new Error(`raw_output_contents has ${raw.length} entries for ${outputs.length} outputs`);
  }
  const result = new Map<string, GrpcOutput>();
  outputs.forEach((out, i) => {
    const datatype = out['datatype'] as Dtype;
    const shape = ((out['shape'] ?? []) as Array<string | number>).map(Number);
    let values: Element[];
    let source: 'raw' | 'contents';
    if (raw.length > 0) {
      source = 'raw';
      const contents = out['contents'] as Message | undefined;
      if (contents && Object.values(contents).some((v) => Array.isArray(v) && v.length > 0)) {
        throw new Error(`output ${out['name']} has both contents and raw_output_contents`);
      }
      values = decodeTensor(datatype, raw[i]!);
    } else {
      source = 'contents';
      const field = CONTENTS_FIELD[datatype];
      if (field === undefined) throw new Error(`output ${out['name']}: ${datatype} can only travel raw`);
      const list = ((out['contents'] as Message | undefined)?.[field] ?? []) as unknown[];
      values = list.map((v) => {
        if (datatype === 'UINT64' || datatype === 'INT64') return BigInt(v as string);
        if (datatype === 'BYTES') return Buffer.from(v as Uint8Array);
        return v as number | boolean;
      });
    }
    result.set(out['name'] as string, { name: out['name'] as string, datatype, shape, source, values });
  });
  return result;
}
