// One @, something before it, and a domain with a dot that does not start or end the domain.
export function email(value) {
  const parts = String(value).split('@');
  if (parts.length !== 2 || parts[0] === '') return 'must contain exactly one @ with a name before it';
  const domain = parts[1];
  if (!domain.includes('.') || domain.startsWith('.') || domain.endsWith('.')) return 'must have a domain such as example.com';
  return null;
}
