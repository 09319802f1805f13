// bfloat16 is the top half of an IEEE float32: same 8-bit exponent, 7 stored mantissa bits. Rounding
// a float32 to it is integer arithmetic on the bits, done here through a shared typed-array view.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The bits of the bfloat16 nearest to the float32 whose bits are `bits` (ties to even); NaN stays a quiet NaN. */
function roundBits(bits: number): number {
  // NaN: keep it NaN (a plain add could carry its payload into the exponent and make it infinite).
  if ((bits & 0x7f800000) === 0x7f800000 && (bits & 0x007fffff) !== 0) return ((bits | 0x00400000) & 0xffff0000) >>> 0;
  // Adding 0x7fff plus the lowest kept bit rounds halfway cases to the even neighbour; a carry out of
  // the mantissa bumps the exponent, and past the largest bf16 it lands exactly on infinity.
  const lsb = (bits >>> 16) & 1;
  return ((bits + 0x7fff + lsb) & 0xffff0000) >>> 0;
}

/** `x` rounded to float32 and then to the nearest bfloat16 (ties to even), as a number. */
export function roundBf16(x: number): number {
  f32[0] = x;
  u32[0] = roundBits(u32[0] as number);
  return f32[0] as number;
}

/** Rounds every element of `values` to bfloat16 in place and returns it. */
export function roundBf16Array<T extends Float32Array>(values: T): T {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < bits.length; i++) bits[i] = roundBits(bits[i] as number);
  return values;
}

/** True when `x` is exactly representable in bfloat16. */
export function isBf16(x: number): boolean {
  return Object.is(roundBf16(x), x) || (Number.isNaN(x) && Number.isNaN(roundBf16(x)));
}
