// Numbers as CPython's formatting writes them, from the exact decimal value of the double and
// rounded half to even: `'%.0f' % 2.5` is `2` and `'%.2f' % 0.125` is `0.12`, where JavaScript's
// toFixed says `3` and `0.13`. Every function formats |x|; callers add the sign.

/** |x| as an exact decimal: digits × 10^exponent (x finite). */
function exactDecimal(x: number): { digits: bigint; exponent: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const bits = view.getBigUint64(0);
  const biased = Number(bits >> 52n);
  const fraction = bits & ((1n << 52n) - 1n);
  const mantissa = biased === 0 ? fraction : fraction | (1n << 52n);
  const power = (biased === 0 ? 1 : biased) - 1075;
  // m × 2^-k = m × 5^k × 10^-k: a double's decimal expansion always terminates.
  return power >= 0 ? { digits: mantissa << BigInt(power), exponent: 0 } : { digits: mantissa * 5n ** BigInt(-power), exponent: power };
}

/** round(|x| × 10^places), half to even, as an integer. */
function scaled(x: number, places: number): bigint {
  const { digits, exponent } = exactDecimal(x);
  const shift = exponent + places;
  if (shift >= 0) return digits * 10n ** BigInt(shift);
  const divisor = 10n ** BigInt(-shift);
  const [quotient, twice] = [digits / divisor, (digits % divisor) * 2n];
  return twice > divisor || (twice === divisor && quotient % 2n === 1n) ? quotient + 1n : quotient;
}

/** |x| in fixed notation with `precision` digits after the point (Python's `f`). */
export function fixed(x: number, precision: number, alternate = false): string {
  const digits = scaled(x, precision).toString().padStart(precision + 1, '0');
  const point = digits.length - precision;
  return precision === 0 ? digits + (alternate ? '.' : '') : `${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** |x| as mantissa digits and decimal exponent, rounded to `significant` digits. */
function significantDigits(x: number, significant: number): { digits: string; exponent: number } {
  if (x === 0) return { digits: '0'.repeat(significant), exponent: 0 };
  const { digits, exponent } = exactDecimal(x);
  let lead = digits.toString().length - 1 + exponent;
  let rounded = scaled(x, significant - 1 - lead).toString();
  // 9.99 rounded to two digits is 10.0: one more digit before the point.
  if (rounded.length > significant) {
    lead += 1;
    rounded = rounded.slice(0, significant);
  }
  return { digits: rounded, exponent: lead };
}

/** |x| in scientific notation with `precision` digits after the point (Python's `e`). */
export function scientific(x: number, precision: number, alternate = false): string {
  const { digits, exponent } = significantDigits(x, precision + 1);
  const mantissa = precision === 0 ? digits + (alternate ? '.' : '') : `${digits[0]}.${digits.slice(1)}`;
  return `${mantissa}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
}

/**
 * |x| in Python's `g`: scientific when the exponent is below -4 or reaches the precision, else
 * fixed, trailing zeros dropped unless `#`. `format` with a precision and no type (`reprStyle`)
 * goes scientific one digit sooner and keeps a `.0` on a whole number, as repr does.
 */
export function general(x: number, precision: number, alternate: boolean, reprStyle = false): string {
  const significant = Math.max(precision, 1);
  const { exponent } = significantDigits(x, significant);
  const scientificNotation = exponent < -4 || exponent >= (reprStyle ? significant - 1 : significant);
  const text = scientificNotation ? scientific(x, significant - 1, alternate) : fixed(x, significant - 1 - exponent, alternate);
  if (alternate) return text;
  const [mantissa = '', power] = text.split('e');
  const trimmed = mantissa.includes('.') ? mantissa.replace(/\.?0+$/, '') : mantissa;
  if (power !== undefined) return `${trimmed}e${power}`;
  return reprStyle && !trimmed.includes('.') ? `${trimmed}.0` : trimmed;
}

export function nonFinite(x: number): string | undefined {
  if (Number.isNaN(x)) return 'nan';
  return Number.isFinite(x) ? undefined : 'inf';
}

export const negative = (x: number): boolean => x < 0 || Object.is(x, -0);

/** The digits of an integer-valued number in `radix`, without sign. */
export function integerDigits(n: number, radix: number): string {
  const magnitude = Math.abs(n);
  return Number.isSafeInteger(magnitude) ? magnitude.toString(radix) : BigInt(magnitude).toString(radix);
}

/**
 * Python's `round(x, places)` of a float: the double's exact value rounded half to even
 * (`round(2.675, 2)` is 2.67, `round(2.5)` 2.0). Negative places round to tens, hundreds….
 */
export function roundHalfEven(x: number, places: number): number {
  if (!Number.isFinite(x)) return x;
  const sign = negative(x) ? -1 : 1;
  if (places >= 0) return sign * Number(fixed(x, places));
  const unit = 10 ** -places;
  return sign * Number(fixed(Math.abs(x) / unit, 0)) * unit;
}

