// Adds up `value(item)` over the list; an empty list sums to 0.
export function sumBy(list, value) {
  return list.reduce((total, item) => total + value(item));
}
