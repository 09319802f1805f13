// A new object with only the listed keys that `obj` has as its own properties.
export function pick(obj, keys) {
  const out = {};
  for (const key of keys) out[key] = obj[key];
  return out;
}
