// 'foo-bar_baz qux' -> 'fooBarBazQux': words are separated by '-', '_' or whitespace; the first
// word is lower case, later words start with an upper-case letter and continue in lower case.
export function camelCase(str) {
  return str
    .split(/[-\s]+/)
    .filter(Boolean)
    .map((word, i) => (i === 0 ? word.toLowerCase() : word[0].toUpperCase() + word.slice(1).toLowerCase()))
    .join('');
}
