/**
 * What a model version serves: its inputs, outputs and max_batch_size, from the model file and the
 * config.json together, as Triton's auto-complete and config checks do.
 *
 * - Without a config: every input and output of the file, symbolic dims as -1. If every input and
 *   output has a variable first dimension, the model batches, with DEFAULT_MAX_BATCH_SIZE.
 * - With a config: its tensors must match the file by name and datatype, and its dims must match the
 *   file's (a fixed file dim needs the same config dim; a variable one takes any). With
 *   max_batch_size > 0 the config dims exclude the batch dimension, which every served tensor must
 *   have variable in the file; metadata then shows -1 in front, as Triton does.
 * - Config inputs, when given, are all of the file's inputs; config outputs may be a subset.
 */
import type { Datatype, TensorMetadata } from '@sibyl/protocol';
import { datatypeOfOrt, TRITON_TYPE, datatypeOfTriton } from './datatype-mapping.js';
import { configMismatch, datatypeUnsupported } from './errors.js';
import type { DeclaredConfig, TensorConfig } from './model-config.js';
import type { SessionInfo, WireValueInfo } from './wire.js';

/**
 * max_batch_size given to a model without config whose every tensor has a variable first dimension.
 * 4 is the default of Triton's `--backend-config=default-max-batch-size`, so the same repository
 * behaves the same under both servers. Requests with a larger batch are rejected.
 */
export const DEFAULT_MAX_BATCH_SIZE = 4;

export interface Signature {
  maxBatchSize: number;
  /** As metadata serves them: with a leading -1 when the model batches. */
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
  /** As config serves them: Triton's form, without the batch dimension. */
  inputConfigs: TensorConfig[];
  outputConfigs: TensorConfig[];
}

interface Where {
  model: string;
  version: string;
  file: string;
}

function fileTensors(where: Where, values: readonly WireValueInfo[]): TensorMetadata[] {
  return values.map((v) => {
    if (!v.isTensor || v.type === undefined) {
      const why = 'it is not a tensor (a sequence, map or optional); onnxruntime-node can only exchange tensors';
      throw datatypeUnsupported(where.model, where.version, v.name, why);
    }
    const datatype = datatypeOfOrt(v.type);
    if (datatype === undefined) {
      throw datatypeUnsupported(where.model, where.version, v.name, `element type '${v.type}' has no v2 datatype`);
    }
    return { name: v.name, datatype, shape: (v.shape ?? []).map((d) => (typeof d === 'number' && d >= 0 ? d : -1)) };
  });
}

function fmt(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

function toConfig(t: TensorMetadata, batching: boolean): TensorConfig {
  return { name: t.name, data_type: TRITON_TYPE[t.datatype], dims: batching ? t.shape.slice(1) : [...t.shape] };
}

/** Checks one config tensor against the file's tensor of the same name; returns what metadata serves. */
function matchTensor(where: Where, field: string, declared: TensorConfig, file: TensorMetadata, maxBatchSize: number): TensorMetadata {
  const batching = maxBatchSize > 0;
  const datatype = datatypeOfTriton(declared.data_type) as Datatype;
  if (datatype !== file.datatype) {
    throw configMismatch(where.model, where.version, where.file, `${field}.data_type`,
      `config says ${declared.data_type} but the model file's '${file.name}' is ${TRITON_TYPE[file.datatype]}`);
  }
  const fileDims = batching ? file.shape.slice(1) : file.shape;
  const batchNote = batching ? ` (without the batch dimension, as max_batch_size is ${maxBatchSize})` : '';
  if (declared.dims.length !== fileDims.length) {
    throw configMismatch(where.model, where.version, where.file, `${field}.dims`,
      `config dims ${fmt(declared.dims)} have rank ${declared.dims.length} but the model file's '${file.name}' has dims ${fmt(fileDims)}${batchNote}`);
  }
  for (let i = 0; i < fileDims.length; i++) {
    const want = fileDims[i]!;
    if (want !== -1 && declared.dims[i] !== want) {
      throw configMismatch(where.model, where.version, where.file, `${field}.dims`,
        `config dims ${fmt(declared.dims)} differ from the model file's '${file.name}' dims ${fmt(fileDims)}${batchNote} at dimension ${i}`);
    }
  }
  return { name: file.name, datatype, shape: batching ? [-1, ...declared.dims] : [...declared.dims] };
}

function checkBatchable(where: Where, maxBatchSize: number, tensors: readonly TensorMetadata[], kind: string): void {
  for (const t of tensors) {
    if (t.shape.length === 0 || t.shape[0] !== -1) {
      throw configMismatch(where.model, where.version, where.file, 'max_batch_size',
        `max_batch_size ${maxBatchSize} needs a variable first dimension (the batch) on every input and output, ` +
          `but ${kind} '${t.name}' has shape ${fmt(t.shape)} in the model file`);
    }
  }
}

export function resolveSignature(where: Where, config: DeclaredConfig, info: SessionInfo): Signature {
  const fileInputs = fileTensors(where, info.inputs);
  const fileOutputs = fileTensors(where, info.outputs);
  const byName = (list: TensorMetadata[], name: string) => list.find((t) => t.name === name);

  // Outputs served: the config's subset, or all.
  for (const [i, out] of config.outputs.entries()) {
    if (byName(fileOutputs, out.name) === undefined) {
      throw configMismatch(where.model, where.version, where.file, `output[${i}].name`,
        `'${out.name}' is not an output of the model file; its outputs are ${fileOutputs.map((t) => `'${t.name}'`).join(', ')}`);
    }
  }
  const servedOutputs = config.outputs.length === 0 ? fileOutputs : config.outputs.map((o) => byName(fileOutputs, o.name)!);

  let maxBatchSize = config.maxBatchSize;
  if (maxBatchSize === undefined) {
    const variableFirst = (t: TensorMetadata) => t.shape.length > 0 && t.shape[0] === -1;
    // Config dims of the file's full rank mean the config author described a model without batching.
    const declared = [...config.inputs, ...config.outputs];
    const fullRank = declared.length > 0 && declared.every((d) => d.dims.length === (byName(fileInputs, d.name) ?? byName(fileOutputs, d.name))?.shape.length);
    const batchable = fileInputs.length > 0 && fileInputs.every(variableFirst) && servedOutputs.every(variableFirst);
    maxBatchSize = batchable && !fullRank ? DEFAULT_MAX_BATCH_SIZE : 0;
  } else if (maxBatchSize > 0) {
    checkBatchable(where, maxBatchSize, fileInputs, 'input');
    checkBatchable(where, maxBatchSize, servedOutputs, 'output');
  }
  const batching = maxBatchSize > 0;

  let inputs: TensorMetadata[];
  if (config.inputs.length === 0) {
    inputs = fileInputs;
  } else {
    inputs = config.inputs.map((declared, i) => {
      const file = byName(fileInputs, declared.name);
      if (file === undefined) {
        throw configMismatch(where.model, where.version, where.file, `input[${i}].name`,
          `'${declared.name}' is not an input of the model file; its inputs are ${fileInputs.map((t) => `'${t.name}'`).join(', ') || 'none'}`);
      }
      return matchTensor(where, `input[${i}]`, declared, file, maxBatchSize);
    });
    const missing = fileInputs.find((f) => !config.inputs.some((d) => d.name === f.name));
    if (missing !== undefined) {
      throw configMismatch(where.model, where.version, where.file, 'input',
        `the model file's input '${missing.name}' is not in the config; a config that lists inputs must list all of them`);
    }
  }
  const outputs = config.outputs.length === 0
    ? servedOutputs
    : config.outputs.map((declared, i) => matchTensor(where, `output[${i}]`, declared, byName(fileOutputs, declared.name)!, maxBatchSize));

  const withOptional = (configs: TensorConfig[]) =>
    configs.map((c) => (config.inputs.find((d) => d.name === c.name)?.optional ? { ...c, optional: true } : c));
  return {
    maxBatchSize,
    inputs,
    outputs,
    inputConfigs: withOptional(inputs.map((t) => toConfig(t, batching))),
    outputConfigs: outputs.map((t) => toConfig(t, batching)),
  };
}
