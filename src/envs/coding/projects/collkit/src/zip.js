// Pairs items by position: zip([1, 2, 3], ['a', 'b']) -> [[1, 'a'], [2, 'b']] (as long as the
// shorter list).
export function zip(a, b) {
  const length = Math.max(a.length, b.length);
  return Array.from({ length }, (_, i) => [a[i], b[i]]);
}
