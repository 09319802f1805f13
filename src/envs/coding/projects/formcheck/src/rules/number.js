// A finite number (numbers or numeric text), optionally within [min, max].
export function number(value, { min, max } = {}) {
  const text = String(value).trim();
  const n = Number(text);
  if (text === '' || !Number.isFinite(n)) return 'must be a number';
  if (min !== undefined && n < min) return `must be ${min} or more`;
  if (max !== undefined && n > max) return `must be ${max} or less`;
  return null;
}
