import { describe, expect, it } from 'vitest';
import { accuracy, exp, featureStats, predict, softmax, toFloat32, trainSoftmaxRegression, type LinearModel } from './softmax-regression.js';

describe('exp', () => {
  it('agrees with Math.exp to a few ulps over the whole range', () => {
    for (let x = -745; x <= 709.7; x += 0.0917) {
      const want = Math.exp(x);
      if (want < 2 ** -1022) expect(Math.abs(exp(x) - want)).toBeLessThanOrEqual(2 ** -1074 * 2);
      else expect(Math.abs(exp(x) - want) / want, `exp(${x})`).toBeLessThan(1e-15);
    }
  });

  it('is exact where the answer is and saturates outside the range', () => {
    expect(exp(0)).toBe(1);
    expect(exp(710)).toBe(Infinity);
    expect(exp(-746)).toBe(0);
    expect(exp(-Infinity)).toBe(0);
    expect(exp(NaN)).toBeNaN();
  });
});

describe('softmax', () => {
  it('sums to 1 without overflowing on large logits', () => {
    const p = softmax([1000, 1000, 999], new Float64Array(3));
    expect(p[0]).toBeCloseTo(p[1]!, 15);
    expect(p.reduce((a, b) => a + b)).toBeCloseTo(1, 15);
    expect(p[2]! / p[0]!).toBeCloseTo(Math.exp(-1), 12);
  });
});

describe('featureStats', () => {
  it('gives mean and population deviation, and 1 for a constant feature', () => {
    const { mean, std } = featureStats([
      [1, 5],
      [3, 5],
    ]);
    expect(Array.from(mean)).toEqual([2, 5]);
    expect(Array.from(std)).toEqual([1, 1]);
  });
});

describe('trainSoftmaxRegression', () => {
  // Three well-separated clusters in 2-D, listed in a fixed order.
  const centres = [
    [0, 0],
    [4, 0],
    [2, 4],
  ];
  const rows: number[][] = [];
  const labels: number[] = [];
  centres.forEach(([cx, cy], c) => {
    for (const [dx, dy] of [[0.3, 0.1], [-0.2, 0.4], [0.1, -0.3], [-0.4, -0.2], [0.2, 0.2]]) {
      rows.push([cx! + dx!, cy! + dy!]);
      labels.push(c);
    }
  });
  const options = { learningRate: 0.5, iterations: 300, l2: 0 };
  const logits = (m: LinearModel, row: number[]) =>
    Array.from({ length: m.classes }, (_, c) => m.bias[c]! + row.reduce((s, v, f) => s + v * m.weights[f * m.classes + c]!, 0));

  it('separates separable classes', () => {
    const model = trainSoftmaxRegression(rows, labels, 3, options);
    expect(accuracy(model, rows, labels)).toBe(1);
    expect(predict(model, [4.1, 0.1])).toBe(1);
  });

  it('is bit-for-bit deterministic', () => {
    const a = trainSoftmaxRegression(rows, labels, 3, options);
    const b = trainSoftmaxRegression(rows, labels, 3, options);
    expect(Buffer.from(a.weights.buffer).equals(Buffer.from(b.weights.buffer))).toBe(true);
    expect(Buffer.from(a.bias.buffer).equals(Buffer.from(b.bias.buffer))).toBe(true);
  });

  it('folds the standardization in: rescaling a feature changes the weights, not the logits', () => {
    // Training sees standardized features, so x and 10·x + 7 train the same; the folded weights
    // must then give the same logits on the raw rows of each.
    const a = trainSoftmaxRegression(rows, labels, 3, options);
    const scaled = rows.map(([x, y]) => [10 * x! + 7, y!]);
    const b = trainSoftmaxRegression(scaled, labels, 3, options);
    rows.forEach((row, i) => {
      const la = logits(a, row);
      logits(b, scaled[i]!).forEach((v, c) => expect(v).toBeCloseTo(la[c]!, 9));
    });
    expect(b.weights[0]).toBeCloseTo(a.weights[0]! / 10, 9);
  });

  it('shrinks weights under an L2 penalty', () => {
    const norm = (m: LinearModel) => Math.hypot(...m.weights);
    expect(norm(trainSoftmaxRegression(rows, labels, 3, { ...options, l2: 0.1 }))).toBeLessThan(norm(trainSoftmaxRegression(rows, labels, 3, options)));
  });

  it('refuses rows without one label each', () => {
    expect(() => trainSoftmaxRegression(rows, labels.slice(1), 3, options)).toThrow(/one label per row/);
  });

  it('rounds to float32 as the ONNX graph stores it', () => {
    const m = toFloat32(trainSoftmaxRegression(rows, labels, 3, options));
    for (const w of m.weights) expect(Math.fround(w)).toBe(w);
  });
});
