// A value must be present: not undefined, null, or blank text.
export function required(value) {
  if (value === undefined || value === null || String(value).trim() === '') return 'is required';
  return null;
}
