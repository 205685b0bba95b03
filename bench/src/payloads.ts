/** The request payloads, shared by the orchestrator and the load generator (no heavy imports here). */

/** Model names in the bench's repository (and in the URLs). */
export const IRIS_MODEL = 'iris';
export const IDENTITY_MODEL = 'identity';

/** One iris-setosa flower: sepal length, sepal width, petal length, petal width (cm). */
export const IRIS_SAMPLE: readonly number[] = Object.freeze([5.1, 3.5, 1.4, 0.2]);

/** What session.run returns for IRIS_SAMPLE; every target must return the same. */
export interface IrisExpectation {
  probabilities: number[];
  label: number;
}

/** 16 MiB of FP32. */
export const LARGE_ELEMENTS = 4_194_304;

/**
 * The 16 MiB payload: deterministic finite floats of every magnitude, plus -0, subnormals and
 * infinities, so an exact round trip checks every bit. NaN is left out: a runtime may quiet it.
 */
export function largePayload(): Float32Array {
  const data = new Float32Array(LARGE_ELEMENTS);
  const bits = new Uint32Array(data.buffer);
  let x = 0x9e3779b9;
  for (let i = 0; i < bits.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    let v = x >>> 0;
    if ((v & 0x7f800000) === 0x7f800000) v &= 0xbfffffff; // exponent all ones (Inf/NaN) -> finite
    bits[i] = v;
  }
  data[0] = -0;
  data[1] = Number.POSITIVE_INFINITY;
  data[2] = Number.NEGATIVE_INFINITY;
  bits[3] = 0x00000001; // smallest subnormal
  data[LARGE_ELEMENTS - 1] = 1;
  return data;
}
