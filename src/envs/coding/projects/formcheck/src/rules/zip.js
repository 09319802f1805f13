// A US ZIP code: 12345 or 12345-6789, but not the unused 00000.
export function zip(value) {
  const text = String(value).trim();
  if (!/^\d{5}(-\d{4})?$/.test(text)) return 'must look like 12345 or 12345-6789';
  if (text.startsWith('00000')) return 'is not a real ZIP code';
  return null;
}
