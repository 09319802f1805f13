// Ordering versions.
import { parse } from './parse.js';

function sign(n) {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

function compareMain(a, b) {
  for (const key of ['major', 'minor', 'patch']) {
    if (a[key] !== b[key]) return a[key] < b[key] ? -1 : 1;
  }
  return 0;
}

function comparePrerelease(a, b) {
  const length = Math.max(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

export function compare(a, b) {
  const va = parse(a);
  const vb = parse(b);
  return sign(compareMain(va, vb) || comparePrerelease(va.prerelease, vb.prerelease));
}

export function sort(list) {
  return [...list].sort(compare);
}

export function max(list) {
  return sort(list).at(-1);
}
