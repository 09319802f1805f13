// Numbers from `start` up to but not including `end`, `step` apart. A negative step counts
// down; a zero step is an error.
export function range(start, end, step = 1) {
  if (step === 0) throw new RangeError('step must not be 0');
  const out = [];
  for (let i = start; i < end; i += step) out.push(i);
  return out;
}
