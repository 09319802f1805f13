// Flattens nested arrays `depth` levels deep (default 1), like Array.prototype.flat.
export function flatten(list, depth = 1) {
  const out = [];
  for (const item of list) {
    if (Array.isArray(item)) out.push(...flatten(item, depth - 1));
    else out.push(item);
  }
  return out;
}
