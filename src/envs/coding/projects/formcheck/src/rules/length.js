// Text length between `min` and `max` characters (either bound optional).
export function length(value, { min, max } = {}) {
  const n = String(value).length;
  if (min !== undefined && n < min) return `must be at least ${min} characters`;
  if (max !== undefined && n > max) return `must be at most ${max} characters`;
  return null;
}
