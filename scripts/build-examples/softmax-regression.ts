/**
 * Multinomial logistic (softmax) regression, trained by full-batch gradient descent.
 *
 * Determinism is the contract: the same rows and options give bit-identical weights on any
 * IEEE-754 JavaScript engine. So there is no randomness (weights start at zero), rows are summed
 * in order, and the only transcendental function is `exp` below, built from + - * / alone,
 * because `Math.exp` is implementation-defined and may differ between engines or Node versions.
 */

export interface TrainOptions {
  /** Step size of gradient descent, on standardized features. */
  learningRate: number;
  /** Number of full-batch gradient steps. */
  iterations: number;
  /** L2 penalty on the weights (not the biases), per row; 0 for none. */
  l2: number;
}

/**
 * A linear model over raw (unstandardized) features: `logits = x · weights + bias`.
 * `weights` is row-major [features][classes].
 */
export interface LinearModel {
  features: number;
  classes: number;
  weights: Float64Array;
  bias: Float64Array;
}

const LN2_HI = 6.93147180369123816490e-1;
const LN2_LO = 1.90821492927058770002e-10;
const INV_LN2 = 1.44269504088896338700;

/**
 * e^x to within a few ulps, from basic arithmetic only (see the module comment). Range reduction
 * x = k·ln2 + r with |r| ≤ ln2/2 (ln2 split in two parts so k·LN2_HI is exact), a Taylor
 * polynomial for e^r (the terms past r^13 are below 2^-53 there), then scaling by 2^k.
 */
export function exp(x: number): number {
  if (Number.isNaN(x)) return x;
  if (x > 709.78) return Infinity;
  if (x < -745.2) return 0;
  const k = Math.round(x * INV_LN2);
  const r = x - k * LN2_HI - k * LN2_LO;
  let term = 1;
  let sum = 1;
  for (let n = 1; n <= 13; n++) {
    term = (term * r) / n;
    sum += term;
  }
  // k can reach −1075 (subnormal results): scale in two halves, each a normal power of two.
  const half = k >> 1;
  return sum * pow2(half) * pow2(k - half);
}

const pow2View = new DataView(new ArrayBuffer(8));

/** 2^k for −1022 ≤ k ≤ 1023, exactly, by writing the exponent bits (no `**`: its accuracy is not specified). */
function pow2(k: number): number {
  pow2View.setUint32(0, (k + 1023) << 20);
  pow2View.setUint32(4, 0);
  return pow2View.getFloat64(0);
}

/** Softmax of `logits` into `out`, shifted by the maximum so no term overflows. */
export function softmax(logits: ArrayLike<number>, out: Float64Array): Float64Array {
  let max = -Infinity;
  for (let j = 0; j < logits.length; j++) max = Math.max(max, logits[j]!);
  let total = 0;
  for (let j = 0; j < logits.length; j++) {
    out[j] = exp(logits[j]! - max);
    total += out[j]!;
  }
  for (let j = 0; j < logits.length; j++) out[j] = out[j]! / total;
  return out;
}

/** Per-feature mean and (population) standard deviation; a constant feature gets deviation 1. */
export function featureStats(rows: readonly (readonly number[])[]): { mean: Float64Array; std: Float64Array } {
  const d = rows[0]?.length ?? 0;
  const mean = new Float64Array(d);
  const std = new Float64Array(d);
  for (const row of rows) for (let f = 0; f < d; f++) mean[f] = mean[f]! + row[f]!;
  for (let f = 0; f < d; f++) mean[f] = mean[f]! / rows.length;
  for (const row of rows) for (let f = 0; f < d; f++) std[f] = std[f]! + (row[f]! - mean[f]!) ** 2;
  for (let f = 0; f < d; f++) std[f] = Math.sqrt(std[f]! / rows.length) || 1;
  return { mean, std };
}

/**
 * Trains on `rows` (features) and `labels` (class indices below `classes`).
 *
 * Training runs on standardized features z = (x − mean) / std, which keeps one learning rate good
 * for every feature; the result has the standardization folded in, so it applies to raw features:
 * W = Wz / std (per feature row) and b = bz − Σ_f mean_f · W_f.
 */
export function trainSoftmaxRegression(
  rows: readonly (readonly number[])[],
  labels: readonly number[],
  classes: number,
  options: TrainOptions,
): LinearModel {
  const n = rows.length;
  if (n === 0 || labels.length !== n) throw new Error(`need one label per row (rows ${n}, labels ${labels.length})`);
  const d = rows[0]!.length;
  const { mean, std } = featureStats(rows);
  const z = rows.map((row) => row.map((v, f) => (v - mean[f]!) / std[f]!));

  const w = new Float64Array(d * classes);
  const b = new Float64Array(classes);
  const gw = new Float64Array(d * classes);
  const gb = new Float64Array(classes);
  const logits = new Float64Array(classes);
  const p = new Float64Array(classes);

  for (let it = 0; it < options.iterations; it++) {
    gw.fill(0);
    gb.fill(0);
    for (let i = 0; i < n; i++) {
      const x = z[i]!;
      for (let c = 0; c < classes; c++) {
        let s = b[c]!;
        for (let f = 0; f < d; f++) s += x[f]! * w[f * classes + c]!;
        logits[c] = s;
      }
      softmax(logits, p);
      // d(cross-entropy)/d(logit_c) = p_c − [c = label]
      for (let c = 0; c < classes; c++) {
        const g = p[c]! - (c === labels[i] ? 1 : 0);
        gb[c] = gb[c]! + g;
        for (let f = 0; f < d; f++) gw[f * classes + c] = gw[f * classes + c]! + g * x[f]!;
      }
    }
    for (let k = 0; k < w.length; k++) w[k] = w[k]! - options.learningRate * (gw[k]! / n + options.l2 * w[k]!);
    for (let c = 0; c < classes; c++) b[c] = b[c]! - options.learningRate * (gb[c]! / n);
  }

  const weights = new Float64Array(d * classes);
  const bias = Float64Array.from(b);
  for (let f = 0; f < d; f++) {
    for (let c = 0; c < classes; c++) {
      const v = w[f * classes + c]! / std[f]!;
      weights[f * classes + c] = v;
      bias[c] = bias[c]! - mean[f]! * v;
    }
  }
  return { features: d, classes, weights, bias };
}

/** The class with the largest logit (the first on a tie, as ONNX ArgMax picks). */
export function predict(model: LinearModel, row: readonly number[]): number {
  let best = 0;
  let bestLogit = -Infinity;
  for (let c = 0; c < model.classes; c++) {
    let s = model.bias[c]!;
    for (let f = 0; f < model.features; f++) s += row[f]! * model.weights[f * model.classes + c]!;
    if (s > bestLogit) {
      bestLogit = s;
      best = c;
    }
  }
  return best;
}

/** Fraction of `rows` whose prediction equals the label. */
export function accuracy(model: LinearModel, rows: readonly (readonly number[])[], labels: readonly number[]): number {
  let right = 0;
  rows.forEach((row, i) => {
    if (predict(model, row) === labels[i]) right++;
  });
  return right / rows.length;
}

/** The same model with weights and bias rounded to float32, as the ONNX graph stores them. */
export function toFloat32(model: LinearModel): LinearModel {
  return { ...model, weights: Float64Array.from(Float32Array.from(model.weights)), bias: Float64Array.from(Float32Array.from(model.bias)) };
}
