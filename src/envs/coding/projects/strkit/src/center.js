// Centers `str` in `width` columns with `fill`; when the padding is odd, the extra character
// goes on the right. Strings at least `width` long are returned unchanged.
export function center(str, width, fill = ' ') {
  const total = Math.max(0, width - str.length);
  const left = Math.ceil(total / 2);
  return fill.repeat(left) + str + fill.repeat(total - left);
}
