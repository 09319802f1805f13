// Counts items per `key(item)`: { [key]: count }.
export function countBy(list, key) {
  const counts = {};
  for (const item of list) counts[key(item)]++;
  return counts;
}
