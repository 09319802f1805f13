// Shortens `str` to at most `max` characters in total, the ellipsis included. Strings that
// already fit are returned unchanged.
export function truncate(str, max, ellipsis = '…') {
  if (str.length < max) return str;
  return str.slice(0, max) + ellipsis;
}
