/**
 * Builds an inference request from `--input name=1,2,3` flags and the model's metadata: the datatype
 * comes from the metadata, the shape from `--shape name=1,4` or from the metadata's shape with its
 * variable (-1) dimensions solved for the number of values given (a flat list of 4 values for
 * [-1,4] is [1,4]; 8 values are [2,4]).
 */
import { inputError, usageError } from './cli-error.js';
import { parseKeyValue } from './key-value.js';
import { formatShape } from './views.js';
import type { InferTensor, ModelMetadata, TensorSpec } from './wire-types.js';

const INTEGER = /^[+-]?[0-9]+$/;

function parseElement(where: string, datatype: string, raw: string): unknown {
  const text = raw.trim();
  if (datatype === 'BYTES') return raw;
  if (datatype === 'BOOL') {
    if (text === 'true' || text === '1') return true;
    if (text === 'false' || text === '0') return false;
    throw inputError(`${where}: '${raw}' is not a BOOL (true, false, 1 or 0)`);
  }
  const value = Number(text);
  if (text === '' || !Number.isFinite(value)) throw inputError(`${where}: '${raw}' is not a number`);
  if (/^U?INT/.test(datatype)) {
    if (!INTEGER.test(text)) throw inputError(`${where}: '${raw}' is not an integer (${datatype})`);
    if (!Number.isSafeInteger(value)) throw inputError(`${where}: ${text} is beyond 2^53; give it exactly with --json`);
    if (datatype.startsWith('U') && value < 0) throw inputError(`${where}: ${text} is negative but ${datatype} is unsigned`);
  }
  return value;
}

function parseShape(name: string, raw: string, usage: string): number[] {
  const dims = raw.split(',').map((d) => d.trim());
  if (dims.some((d) => !/^[0-9]+$/.test(d))) throw usageError(`--shape ${name}: expected dimensions like 1,4, got '${raw}'`, usage);
  return dims.map(Number);
}

/** The metadata shape with its -1 dimensions made concrete for `count` elements. */
export function resolveShape(spec: TensorSpec, count: number): number[] {
  const where = `input '${spec.name}' ${formatShape(spec.shape)}`;
  const shape = [...spec.shape];
  let variable = shape.flatMap((d, i) => (d < 0 ? [i] : []));
  // More than one variable dimension: the leading one is the batch, taken as 1 for a flat list.
  if (variable.length > 1 && variable[0] === 0) {
    shape[0] = 1;
    variable = variable.slice(1);
  }
  if (variable.length > 1) {
    throw inputError(`${where} has ${variable.length} variable dimensions: give the shape with --shape ${spec.name}=...`);
  }
  const fixed = shape.reduce((product, d) => (d < 0 ? product : product * d), 1);
  if (variable.length === 1) {
    if (fixed === 0 || count % fixed !== 0) {
      throw inputError(`${where}: ${count} values do not fill whole ${fixed > 0 ? `rows of ${fixed}` : 'rows'}; give the shape with --shape ${spec.name}=...`);
    }
    shape[variable[0]!] = count / fixed;
  } else if (fixed !== count) {
    throw inputError(`${where} takes ${fixed} values, got ${count}`);
  }
  return shape;
}

function describeInputs(metadata: ModelMetadata): string {
  return metadata.inputs.map((t) => `${t.name} (${t.datatype} ${formatShape(t.shape)})`).join(', ');
}

export interface InputFlags {
  /** Each `--input`, in order: the tensor name and its elements as written. */
  readonly inputs: readonly { readonly name: string; readonly elements: readonly string[] }[];
  /** Each `--shape`, by tensor name. */
  readonly shapes: ReadonlyMap<string, readonly number[]>;
}

/** Checks the flags' syntax, before anything is sent. */
export function parseInputFlags(rawInputs: readonly string[], rawShapes: readonly string[], usage: string): InputFlags {
  const shapes = new Map<string, number[]>();
  for (const raw of rawShapes) {
    const [name, dims] = parseKeyValue('shape', raw, usage);
    if (shapes.has(name)) throw usageError(`--shape ${name} is given twice`, usage);
    shapes.set(name, parseShape(name, dims, usage));
  }
  const inputs = rawInputs.map((raw) => {
    const [name, list] = parseKeyValue('input', raw, usage);
    return { name, elements: list.split(',') };
  });
  const names = inputs.map((i) => i.name);
  const twice = names.find((name, i) => names.indexOf(name) !== i);
  if (twice !== undefined) throw usageError(`--input ${twice} is given twice`, usage);
  for (const name of shapes.keys()) {
    if (!names.includes(name)) throw usageError(`--shape ${name} has no matching --input ${name}=...`, usage);
  }
  return { inputs, shapes };
}

/** The request body for the flags, typed and shaped by the model's metadata. */
export function buildInferRequest(flags: InputFlags, metadata: ModelMetadata): { inputs: InferTensor[] } {
  const inputs = flags.inputs.map(({ name, elements }): InferTensor => {
    const spec = metadata.inputs.find((t) => t.name === name);
    if (spec === undefined) throw inputError(`model ${metadata.name} has no input '${name}'; its inputs: ${describeInputs(metadata)}`);
    const data = elements.map((element, i) => parseElement(`input '${name}' value ${i + 1}`, spec.datatype, element));
    const given = flags.shapes.get(name);
    if (given === undefined) return { name, shape: resolveShape(spec, data.length), datatype: spec.datatype, data };
    const expected = given.reduce((product, d) => product * d, 1);
    if (expected !== data.length) throw inputError(`--shape ${name}=${given.join(',')} holds ${expected} values, got ${data.length}`);
    return { name, shape: [...given], datatype: spec.datatype, data };
  });
  const missing = metadata.inputs.filter((t) => !flags.inputs.some((i) => i.name === t.name));
  if (missing.length > 0) {
    throw inputError(`model ${metadata.name} also needs ${missing.map((t) => `--input ${t.name}=...`).join(' ')}; its inputs: ${describeInputs(metadata)}`);
  }
  return { inputs };
}
