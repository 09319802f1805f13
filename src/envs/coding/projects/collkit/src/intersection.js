// Values present in both lists, each once, in the order of `a`.
export function intersection(a, b) {
  const other = new Set(b);
  return a.filter((value) => other.has(value));
}
