// Splits `list` into arrays of `size` items; the last chunk holds whatever is left.
export function chunk(list, size) {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`size must be a positive integer, got ${size}`);
  const out = [];
  for (let i = 0; i + size <= list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}
