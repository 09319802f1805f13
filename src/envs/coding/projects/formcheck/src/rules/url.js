// An absolute http(s) URL.
export function url(value) {
  let parsed;
  try {
    parsed = new URL(String(value));
  } catch {
    return 'must be a full URL such as https://example.com';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'must start with http:// or https://';
  return null;
}
