// At least 10 characters with at least one letter and one digit.
export function password(value) {
  const text = String(value);
  if (text.length < 10) return 'must be at least 10 characters';
  if (!/[A-Za-z]/.test(text)) return 'must contain a letter';
  if (!/\d/.test(text)) return 'must contain a digit';
  return null;
}
