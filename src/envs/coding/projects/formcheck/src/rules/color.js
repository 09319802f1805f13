// A CSS hex colour: #rgb or #rrggbb.
export function color(value) {
  if (!/^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/.test(String(value).trim())) return 'must be a hex colour such as #1a2b3c';
  return null;
}
