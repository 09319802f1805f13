export { parse } from './parse.js';
export { compare, max, sort } from './compare.js';
