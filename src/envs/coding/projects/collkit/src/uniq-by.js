// Removes items whose `key(item)` was already seen; the FIRST item with each key is kept, in
// the original order.
export function uniqBy(list, key) {
  const seen = new Map();
  for (const item of list) seen.set(key(item), item);
  return [...seen.values()];
}
