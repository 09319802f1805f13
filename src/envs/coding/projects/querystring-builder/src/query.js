// Building URL query strings from plain objects.

export function buildQuery(params) {
  const parts = [];
  for (const [key, value] of Object.entries(params)) {
    parts.push(`${key}=${value}`);
  }
  return parts.join('&');
}

export function withQuery(url, params) {
  const query = buildQuery(params);
  return `${url}?${query}`;
}
