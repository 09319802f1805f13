// Merging closed intervals [start, end].

export function merge(intervals) {
  const out = [];
  for (const interval of intervals) {
    const last = out[out.length - 1];
    if (last && interval[0] < last[1]) {
      last[1] = interval[1];
    } else {
      out.push(interval);
    }
  }
  return out;
}

export function totalLength(intervals) {
  return merge(intervals).reduce((sum, [start, end]) => sum + (end - start), 0);
}
