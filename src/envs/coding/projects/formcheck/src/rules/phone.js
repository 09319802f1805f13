// Digits with optional spaces, dashes, dots, parentheses and one leading +; 7 to 15 digits.
export function phone(value) {
  const text = String(value).trim();
  if (!/^\+?[\d\s().-]+$/.test(text)) return 'may only contain digits, spaces, dashes, dots, parentheses and a leading +';
  const digits = text.replace(/\D/g, '').length;
  if (digits < 7 || digits > 15) return 'must have between 7 and 15 digits';
  return null;
}
