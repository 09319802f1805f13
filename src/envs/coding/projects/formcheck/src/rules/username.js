// Lower-case letters, digits and underscores, not starting with a digit, not a reserved name.
const RESERVED = new Set(['admin', 'root', 'support', 'system']);

export function username(value) {
  const text = String(value);
  if (!/^[a-z0-9_]+$/.test(text)) return 'may only contain lower-case letters, digits and _';
  if (/^\d/.test(text)) return 'must not start with a digit';
  if (RESERVED.has(text)) return 'is reserved';
  return null;
}
