/** Checks that a target returned the right outputs: a fast server that answers wrongly does not count. */
import type { TensorCase } from './load-spec.js';
import type { IrisExpectation } from './payloads.js';

export interface NumericOutput {
  name: string;
  datatype: string;
  shape: number[];
  values: number[];
}

const TOLERANCE = 1e-6;

function sameShape(actual: readonly unknown[], expected: readonly number[]): boolean {
  return actual.length === expected.length && actual.every((d, i) => Number(d) === expected[i]);
}

/** Throws unless `outputs` holds probabilities FP32 [1,3] and label INT64 [1] equal to `expected`. */
export function checkIris(outputs: readonly NumericOutput[], expected: IrisExpectation): void {
  const probs = outputs.find((o) => o.name === 'probabilities');
  const label = outputs.find((o) => o.name === 'label');
  if (probs === undefined || label === undefined) {
    throw new Error(`expected outputs probabilities and label, got ${outputs.map((o) => o.name).join(', ') || 'none'}`);
  }
  if (probs.datatype !== 'FP32' || !sameShape(probs.shape, [1, expected.probabilities.length])) {
    throw new Error(`probabilities: expected FP32 [1,${expected.probabilities.length}], got ${probs.datatype} [${probs.shape.join(',')}]`);
  }
  if (label.datatype !== 'INT64' || !sameShape(label.shape, [1])) {
    throw new Error(`label: expected INT64 [1], got ${label.datatype} [${label.shape.join(',')}]`);
  }
  const off = probs.values.findIndex((v, i) => !(Math.abs(v - expected.probabilities[i]!) <= TOLERANCE));
  if (off >= 0 || probs.values.length !== expected.probabilities.length) {
    throw new Error(`probabilities: expected [${expected.probabilities.join(', ')}], got [${probs.values.join(', ')}]`);
  }
  if (label.values[0] !== expected.label) throw new Error(`label: expected ${expected.label}, got ${label.values[0]}`);
}

/** Throws unless `bytes` equals `sent` exactly. */
export function checkSameBytes(what: string, sent: Uint8Array, bytes: Uint8Array | undefined): void {
  if (bytes === undefined) throw new Error(`${what}: no binary data in the response`);
  if (bytes.byteLength !== sent.byteLength) throw new Error(`${what}: sent ${sent.byteLength} bytes, got ${bytes.byteLength}`);
  if (!Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).equals(sent)) {
    let i = 0;
    while (i < sent.byteLength && bytes[i] === sent[i]) i++;
    throw new Error(`${what}: bytes differ from offset ${i}`);
  }
}

/** Throws unless `output` is FP32 of the case's output shape and, when the case has them, holds its expected values (to its tolerance). */
export function checkTensor(output: NumericOutput, c: Pick<TensorCase, 'output' | 'outputShape' | 'expected' | 'tolerance'>): void {
  if (output.datatype !== 'FP32' || !sameShape(output.shape, c.outputShape)) {
    throw new Error(`${c.output}: expected FP32 [${c.outputShape.join(',')}], got ${output.datatype} [${output.shape.join(',')}]`);
  }
  if (c.expected === undefined) return;
  const expected = c.expected;
  const off = output.values.findIndex((v, i) => !(Math.abs(v - expected[i]!) <= c.tolerance * (1 + Math.abs(expected[i]!))));
  if (off >= 0 || output.values.length !== expected.length) {
    const i = Math.max(off, 0);
    throw new Error(`${c.output}: ${output.values.length} values, expected ${expected.length}; value ${i} is ${output.values[i]}, expected ${expected[i]} (tolerance ${c.tolerance})`);
  }
}
