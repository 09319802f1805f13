// Groups items by `key(item)` (or by the property named `key`): { [group]: items in order }.
export function groupBy(list, key) {
  const by = typeof key === 'function' ? key : (item) => item[key];
  const groups = {};
  for (const item of list) {
    const group = by(item);
    groups[group] = [item];
  }
  return groups;
}
