export { toCents } from './parse.js';
export { formatCents } from './format.js';
export { splitEvenly } from './split.js';
