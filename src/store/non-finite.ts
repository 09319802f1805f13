// Numbers JSON cannot hold. JSON.stringify writes NaN, Infinity and -Infinity as `null` without a
// word, so a record holding one would come back altered (a -∞ logprob as null, which its schema
// then refuses). The store keeps the null the JSON has at such a position and lists the position
// beside it, under an internal key, so reading puts the number back. Records with no such number
// (nearly all) are written exactly as before, and rows written before read as they always did.
//
// What may be stored at all is the store's decision per field (docs/design/runs.md, "Numbers JSON
// cannot hold"): -∞ as a completion logprob (a token of probability 0), and any of the three inside
// data kept verbatim (a wire body, the arguments a model wrote, a term's detail), where the
// record's schema takes any JSON value. A NaN or +∞ logprob, and a non-finite number in a field
// with a meaning of its own (a count, a latency, a score, a reward), is a defect and refused.
import type { z } from 'zod';
import { StoredDataError } from '../core/index.ts';

/** Internal key of a stored record: where its non-finite numbers are (never part of the record itself). */
export const NON_FINITE_KEY = '$nonFinite';

export type NonFiniteWord = 'NaN' | 'Infinity' | '-Infinity';
export type RecordPath = (string | number)[];
/** A non-finite number and where it is, below the value it was found in. */
export type NonFiniteAt = [path: RecordPath, word: NonFiniteWord];

const WORDS: Record<NonFiniteWord, number> = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY };

export function wordOf(value: number): NonFiniteWord {
  return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
}

/**
 * Whether `value` holds a non-finite number anywhere: asked of every record written, so it is a
 * tight walk (`x - x` is 0 for every finite number and NaN for the rest).
 */
export function hasNonFinite(value: unknown): boolean {
  if (typeof value === 'number') return value - value !== 0;
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === 'number') {
        if (item - item !== 0) return true;
      } else if (typeof item === 'object' && item !== null && hasNonFinite(item)) return true;
    }
    return false;
  }
  const record = value as Record<string, unknown>;
  for (const key in record) {
    const item = record[key];
    if (typeof item === 'number') {
      if (item - item !== 0 && Object.hasOwn(record, key)) return true;
    } else if (typeof item === 'object' && item !== null && Object.hasOwn(record, key) && hasNonFinite(item)) return true;
  }
  return false;
}

/** Every non-finite number in `value`, with its path. */
export function findNonFinite(value: unknown): NonFiniteAt[] {
  const found: NonFiniteAt[] = [];
  const path: RecordPath = [];
  const walk = (node: unknown): void => {
    if (typeof node === 'number') {
      if (!Number.isFinite(node)) found.push([[...path], wordOf(node)]);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const entries: [string | number, unknown][] = Array.isArray(node) ? node.map((item, i) => [i, item]) : Object.entries(node);
    for (const [key, item] of entries) {
      if (item === undefined) continue; // JSON.stringify leaves it out (or writes null in an array): nothing to keep
      path.push(key);
      walk(item);
      path.pop();
    }
  };
  walk(value);
  return found;
}

export function pathText(path: RecordPath): string {
  return path.length === 0 ? '(root)' : path.map(String).join('.');
}

/**
 * Puts the numbers `tags` list back into `value` (a column as JSON.parse read it), where the JSON
 * has null. A list that is not of the stored shape, or names a position that does not hold null,
 * is a StoredDataError at `where`: a row damaged or edited by hand is never read as something else.
 */
export function restoreTags(value: unknown, tags: unknown, where: string): void {
  const expected = 'a list of [path, "NaN" | "Infinity" | "-Infinity"] naming positions that hold null (a row written by Gauntlet)';
  if (!Array.isArray(tags)) throw new StoredDataError(where, `is ${describe(tags)}`, expected);
  tags.forEach((tag: unknown, i) => {
    const at = `${where}.${i}`;
    if (!Array.isArray(tag) || tag.length !== 2 || !Array.isArray(tag[0]) || !(typeof tag[1] === 'string' && Object.hasOwn(WORDS, tag[1]))) throw new StoredDataError(at, `is ${JSON.stringify(tag)?.slice(0, 120)}`, expected);
    const path = tag[0] as unknown[];
    if (path.length === 0 || !path.every((key) => typeof key === 'string' || (Number.isSafeInteger(key) && (key as number) >= 0))) throw new StoredDataError(at, `has the path ${JSON.stringify(path).slice(0, 120)}`, expected);
    const { container, key } = locate(value, path as RecordPath);
    if (container === undefined || (container as Record<string | number, unknown>)[key] !== null) {
      throw new StoredDataError(at, `names ${pathText(path as RecordPath)}, which ${container === undefined ? 'is not in the record' : 'does not hold null'}`, expected);
    }
    (container as Record<string | number, unknown>)[key] = WORDS[tag[1] as NonFiniteWord];
  });
}

/** The object or array holding `path`'s last key, or undefined where the path leads nowhere. */
function locate(value: unknown, path: RecordPath): { container: object | undefined; key: string | number } {
  let node = value;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i]!;
    if (!holds(node, key)) return { container: undefined, key: path.at(-1)! };
    node = (node as Record<string | number, unknown>)[key];
  }
  const key = path.at(-1)!;
  return { container: holds(node, key) ? (node as object) : undefined, key };
}

function holds(node: unknown, key: string | number): boolean {
  if (node === null || typeof node !== 'object') return false;
  if (Array.isArray(node)) return typeof key === 'number' && key < node.length;
  return typeof key === 'string' && Object.hasOwn(node, key);
}

/**
 * What a record's schema says of its non-finite numbers: `placeholder` stands in while the record
 * is validated (null where the schema takes any JSON value), `refuse` names what may not be stored.
 */
export interface NonFinitePolicy {
  /** Why this number may not be stored here, or null when it may. */
  refuse(path: RecordPath, word: NonFiniteWord): string | null;
  /** What stands in for the number while the schema checks the record; null by default. */
  placeholder?(path: RecordPath): unknown;
}

/**
 * Validates `record` with `schema`, its non-finite numbers (`found`) replaced by stand-ins, and puts
 * them back into what the schema returns. A number the policy refuses, or one at a position whose
 * schema does not take the stand-in (a typed field, not verbatim JSON), is reported by `fail`.
 */
export function parseWithNonFinite<T>(input: {
  schema: z.ZodType<T>;
  record: unknown;
  found: readonly NonFiniteAt[];
  policy: NonFinitePolicy;
  fail: (path: RecordPath, word: NonFiniteWord, why: string) => never;
}): z.ZodSafeParseResult<T> {
  const { schema, record, found, policy, fail } = input;
  for (const [path, word] of found) {
    const why = policy.refuse(path, word);
    if (why !== null) fail(path, word, why);
  }
  const result = schema.safeParse(withStandIns(record, found, policy));
  if (!result.success) {
    // Only an issue at the number's own position is about it (a typed field); others are the record's own.
    for (const issue of result.error.issues) {
      const at = issue.path.map(String).join('\u0000');
      const hit = found.find(([path]) => path.map(String).join('\u0000') === at);
      if (hit) fail(hit[0], hit[1], `a finite number belongs there (${issue.message})`);
    }
    return result;
  }
  for (const [path, word] of found) {
    const { container, key } = locate(result.data, path);
    if (container !== undefined) (container as Record<string | number, unknown>)[key] = WORDS[word];
  }
  return result;
}

/** `record` with a stand-in at each listed path, copying only the objects and arrays on those paths. */
function withStandIns(record: unknown, found: readonly NonFiniteAt[], policy: NonFinitePolicy): unknown {
  if (found.length === 0) return record;
  const copied = new WeakSet<object>();
  const copy = (node: object): object => {
    const out = Array.isArray(node) ? [...(node as unknown[])] : { ...node };
    copied.add(out);
    return out;
  };
  const root = copy(record as object);
  for (const [path] of found) {
    let node = root as Record<string | number, unknown>;
    for (let i = 0; i < path.length - 1; i++) {
      const key = path[i]!;
      let next = node[key] as object;
      if (!copied.has(next)) {
        next = copy(next);
        node[key] = next;
      }
      node = next as Record<string | number, unknown>;
    }
    node[path.at(-1)!] = policy.placeholder ? policy.placeholder(path) : null;
  }
  return root;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array of the wrong shape';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
