// Splits `list` into [items that pass, items that fail]; `test(item, index)`.
export function partition(list, test) {
  const pass = [];
  const fail = [];
  list.forEach((item) => (test(item) ? pass : fail).push(item));
  return [pass, fail];
}
