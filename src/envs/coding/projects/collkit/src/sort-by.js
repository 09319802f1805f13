// Stable sort by one or more property names; a name prefixed with '-' sorts descending.
// sortBy(people, 'last', '-age'): by last name, then oldest first.
function compareValues(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function sortBy(list, ...keys) {
  const [first] = keys;
  const desc = first.startsWith('-');
  const name = desc ? first.slice(1) : first;
  return [...list].sort((a, b) => (desc ? -1 : 1) * compareValues(a[name], b[name]));
}
