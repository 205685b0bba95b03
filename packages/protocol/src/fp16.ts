/**
 * Conversions between JavaScript numbers and the bit patterns of IEEE 754 half precision (FP16)
 * and bfloat16 (BF16), as held in the Uint16Array of an FP16/BF16 tensor.
 *
 * Numbers are rounded directly from float64 to the 16-bit format, to nearest with ties to even
 * (going through float32 first would round twice and be wrong for some halfway cases). Overflow
 * gives ±Infinity, underflow gives subnormals and then ±0 with the sign kept; NaN becomes the quiet
 * NaN pattern (its payload is not observable in JavaScript).
 */

const F64 = new Float64Array(1);
const F64_HIGH = new Uint32Array(F64.buffer, 4, 1);

interface Format {
  /** Explicit mantissa bits. */
  readonly mantissaBits: number;
  readonly bias: number;
  /** The all-ones exponent field (Infinity, NaN). */
  readonly maxField: number;
}

const HALF: Format = { mantissaBits: 10, bias: 15, maxField: 31 };
const BFLOAT: Format = { mantissaBits: 7, bias: 127, maxField: 255 };

/** Rounds a non-negative value to an integer, ties to even. Exact for the magnitudes used here (< 2^12). */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const rest = x - floor;
  if (rest > 0.5 || (rest === 0.5 && floor % 2 === 1)) return floor + 1;
  return floor;
}

function encode(value: number, format: Format): number {
  const { mantissaBits, bias, maxField } = format;
  if (value !== value) return (maxField << mantissaBits) | (1 << (mantissaBits - 1));
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const magnitude = Math.abs(value);
  const infinity = sign | (maxField << mantissaBits);
  if (magnitude === Infinity) return infinity;
  if (magnitude === 0) return sign;
  F64[0] = magnitude;
  // Unbiased binary exponent of the float64; float64 subnormals read as -1023 and round to zero below.
  let exponent = ((F64_HIGH[0]! >>> 20) & 0x7ff) - 1023;
  const minNormal = 1 - bias;
  if (exponent < minNormal) {
    // Subnormal target: count units of 2^(minNormal - mantissaBits). A carry into 2^mantissaBits
    // is exactly the smallest normal's bit pattern.
    return sign | roundHalfEven(magnitude * 2 ** (mantissaBits - minNormal));
  }
  let mantissa = roundHalfEven(magnitude * 2 ** (mantissaBits - exponent));
  if (mantissa === 2 ** (mantissaBits + 1)) {
    exponent++;
    mantissa /= 2;
  }
  const field = exponent + bias;
  if (field >= maxField) return infinity;
  return sign | (field << mantissaBits) | (mantissa - (1 << mantissaBits));
}

function decode(bits: number, format: Format): number {
  const { mantissaBits, bias, maxField } = format;
  const sign = bits & 0x8000 ? -1 : 1;
  const field = (bits >>> mantissaBits) & maxField;
  const mantissa = bits & ((1 << mantissaBits) - 1);
  if (field === 0) return sign * mantissa * 2 ** (1 - bias - mantissaBits);
  if (field === maxField) return mantissa === 0 ? sign * Infinity : Number.NaN;
  return sign * (mantissa + (1 << mantissaBits)) * 2 ** (field - bias - mantissaBits);
}

/** The FP16 bit pattern nearest to `value` (ties to even). */
export function floatToHalfBits(value: number): number {
  return encode(value, HALF);
}

/** The value of an FP16 bit pattern (low 16 bits of `bits`). */
export function halfBitsToFloat(bits: number): number {
  return decode(bits & 0xffff, HALF);
}

/** The BF16 bit pattern nearest to `value` (ties to even). */
export function floatToBfloat16Bits(value: number): number {
  return encode(value, BFLOAT);
}

/** The value of a BF16 bit pattern (low 16 bits of `bits`). */
export function bfloat16BitsToFloat(bits: number): number {
  return decode(bits & 0xffff, BFLOAT);
}
