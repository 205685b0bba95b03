import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bfloat16BitsToFloat, floatToBfloat16Bits, floatToHalfBits, halfBitsToFloat } from './fp16.js';

const isNaNBits = (bits: number, mantissaBits: number, maxField: number) =>
  ((bits >>> mantissaBits) & maxField) === maxField && (bits & ((1 << mantissaBits) - 1)) !== 0;

/** Reference BF16 rounding of a float32 (the bit trick used by PyTorch and TensorFlow). */
function bf16FromFloat32(value: number): number {
  const bits = new Uint32Array(new Float32Array([value]).buffer)[0]!;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

describe('FP16', () => {
  it('decodes known patterns', () => {
    expect(halfBitsToFloat(0x3c00)).toBe(1);
    expect(halfBitsToFloat(0xc000)).toBe(-2);
    expect(halfBitsToFloat(0x7bff)).toBe(65504);
    expect(halfBitsToFloat(0x0001)).toBe(2 ** -24);
    expect(halfBitsToFloat(0x0400)).toBe(2 ** -14);
    expect(halfBitsToFloat(0x03ff)).toBe(1023 * 2 ** -24);
    expect(halfBitsToFloat(0x7c00)).toBe(Infinity);
    expect(halfBitsToFloat(0xfc00)).toBe(-Infinity);
    expect(halfBitsToFloat(0x7e00)).toBeNaN();
    expect(Object.is(halfBitsToFloat(0x8000), -0)).toBe(true);
    expect(halfBitsToFloat(0x3555)).toBeCloseTo(0.33325, 5);
  });

  it('encodes known values, with overflow, underflow, signed zero and NaN', () => {
    expect(floatToHalfBits(1)).toBe(0x3c00);
    expect(floatToHalfBits(-2)).toBe(0xc000);
    expect(floatToHalfBits(65504)).toBe(0x7bff);
    expect(floatToHalfBits(65519.99)).toBe(0x7bff);
    expect(floatToHalfBits(65520)).toBe(0x7c00); // halfway to 2^16 rounds to even: Infinity
    expect(floatToHalfBits(1e10)).toBe(0x7c00);
    expect(floatToHalfBits(-Infinity)).toBe(0xfc00);
    expect(floatToHalfBits(2 ** -24)).toBe(0x0001);
    expect(floatToHalfBits(2 ** -25)).toBe(0x0000); // tie between 0 and the smallest subnormal: even is 0
    expect(floatToHalfBits(2 ** -25 * 1.0000001)).toBe(0x0001);
    expect(floatToHalfBits(3 * 2 ** -25)).toBe(0x0002); // tie between 1 and 2 units: even is 2
    expect(floatToHalfBits(1023.5 * 2 ** -24)).toBe(0x0400); // subnormal carries into the smallest normal
    expect(floatToHalfBits(-1e-10)).toBe(0x8000);
    expect(floatToHalfBits(-0)).toBe(0x8000);
    expect(floatToHalfBits(0)).toBe(0);
    expect(floatToHalfBits(Number.MIN_VALUE)).toBe(0);
    expect(floatToHalfBits(Number.NaN)).toBe(0x7e00);
    expect(floatToHalfBits(1 + 2 ** -11)).toBe(0x3c00); // tie, even mantissa stays
    expect(floatToHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie, odd mantissa rounds up
    expect(floatToHalfBits(1 - 2 ** -12)).toBe(0x3c00); // mantissa carry bumps the exponent
  });

  it('round-trips every non-NaN pattern exactly', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      if (isNaNBits(bits, 10, 31)) {
        expect(halfBitsToFloat(bits)).toBeNaN();
        continue;
      }
      expect(floatToHalfBits(halfBitsToFloat(bits))).toBe(bits);
    }
  });

  it('rounds any double to the nearest pattern, ties to even', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, min: -70000, max: 70000 }), (value) => {
        const bits = floatToHalfBits(value);
        const got = halfBitsToFloat(bits);
        if (!Number.isFinite(got)) return Math.abs(value) >= 65520;
        const error = Math.abs(value - got);
        for (const neighbour of [bits - 1, bits + 1]) {
          if ((neighbour & 0x7fff) > 0x7bff || neighbour < 0 || (neighbour & 0x8000) !== (bits & 0x8000)) continue;
          const other = Math.abs(value - halfBitsToFloat(neighbour));
          if (other < error) return false;
          if (other === error && bits % 2 === 1) return false;
        }
        return true;
      }),
      { numRuns: 5000 },
    );
  });
});

describe('BF16', () => {
  it('decodes and encodes known values', () => {
    expect(bfloat16BitsToFloat(0x3f80)).toBe(1);
    expect(bfloat16BitsToFloat(0xc040)).toBe(-3);
    expect(bfloat16BitsToFloat(0x7f80)).toBe(Infinity);
    expect(bfloat16BitsToFloat(0x7fc0)).toBeNaN();
    expect(bfloat16BitsToFloat(0x0001)).toBe(2 ** -133);
    expect(floatToBfloat16Bits(1)).toBe(0x3f80);
    expect(floatToBfloat16Bits(-3)).toBe(0xc040);
    expect(floatToBfloat16Bits(3.4e38)).toBe(0x7f80); // past the largest finite BF16 (3.39e38)
    expect(floatToBfloat16Bits(3.3e38)).toBe(0x7f78);
    expect(floatToBfloat16Bits(2 ** -133)).toBe(0x0001);
    expect(floatToBfloat16Bits(2 ** -134)).toBe(0x0000);
    expect(floatToBfloat16Bits(Number.NaN)).toBe(0x7fc0);
    expect(floatToBfloat16Bits(-0)).toBe(0x8000);
    expect(floatToBfloat16Bits(1 + 2 ** -8)).toBe(0x3f80);
    expect(floatToBfloat16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82);
  });

  it('round-trips every non-NaN pattern exactly', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      if (isNaNBits(bits, 7, 255)) continue;
      expect(floatToBfloat16Bits(bfloat16BitsToFloat(bits))).toBe(bits);
    }
  });

  it('agrees with the float32 bit trick on float32 values', () => {
    fc.assert(
      fc.property(fc.float({ noNaN: true }), (value) => floatToBfloat16Bits(value) === bf16FromFloat32(value)),
      { numRuns: 10000 },
    );
  });
});
