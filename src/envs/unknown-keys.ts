// Keys a zod schema would drop without a word. zod's default object strips keys it does not know,
// so a misspelt optional field (`compnay:` for `company:`) vanishes and its default is used instead.
// Rather than make every schema strict (which would also change the JSON Schema the tools publish),
// values are walked beside their schema and every key an object level would strip is named.
import { z } from 'zod';

export interface UnknownKey {
  /** Where the object holding the key is, from the value's root. */
  path: (string | number)[];
  key: string;
  /** The keys that level takes. */
  known: string[];
}

/**
 * Every key of `value` that `schema` would strip, at every level the walk can follow (objects,
 * arrays, records, optional/default/nullable wrappers, a pipe's input, union branches).
 * Objects declared `.loose()` or with a catchall keep their extra keys, so none is reported there.
 * `extraKnown` adds names the top level accepts beside the schema's own (world options).
 */
export function unknownKeys(schema: z.ZodType, value: unknown, extraKnown: readonly string[] = []): UnknownKey[] {
  const found: UnknownKey[] = [];
  walk(schema, value, [], found, extraKnown);
  return found;
}

function walk(schema: z.ZodType, value: unknown, path: (string | number)[], found: UnknownKey[], extraKnown: readonly string[] = []): void {
  if (value === null || typeof value !== 'object') return;
  if (schema instanceof z.ZodObject) {
    if (Array.isArray(value)) return;
    const shape = schema.shape as Record<string, z.ZodType>;
    const catchall = (schema._zod.def as { catchall?: z.ZodType }).catchall;
    // strip (no catchall) and strict (never) both refuse; strict's own error is less helpful.
    const closed = catchall === undefined || catchall instanceof z.ZodNever;
    const known = [...Object.keys(shape), ...extraKnown.filter((k) => !Object.hasOwn(shape, k))];
    for (const [key, member] of Object.entries(value)) {
      const inner = Object.hasOwn(shape, key) ? shape[key] : undefined;
      if (inner) walk(inner, member, [...path, key], found);
      else if (closed && !extraKnown.includes(key)) found.push({ path, key, known });
    }
    return;
  }
  if (schema instanceof z.ZodArray) {
    if (Array.isArray(value)) value.forEach((item, i) => walk(schema.element as z.ZodType, item, [...path, i], found));
    return;
  }
  if (schema instanceof z.ZodRecord) {
    if (!Array.isArray(value)) for (const [key, member] of Object.entries(value)) walk(schema.valueType as z.ZodType, member, [...path, key], found);
    return;
  }
  if (
    schema instanceof z.ZodOptional ||
    schema instanceof z.ZodNullable ||
    schema instanceof z.ZodDefault ||
    schema instanceof z.ZodPrefault ||
    schema instanceof z.ZodNonOptional ||
    schema instanceof z.ZodReadonly ||
    schema instanceof z.ZodCatch
  ) {
    walk(schema._zod.def.innerType as z.ZodType, value, path, found, extraKnown);
    return;
  }
  if (schema instanceof z.ZodPipe) {
    walk(schema.in as z.ZodType, value, path, found, extraKnown);
    return;
  }
  if (schema instanceof z.ZodUnion) {
    // The branch the value is meant for: the one its discriminator names, the only one of its
    // kind (object or array), else the first that takes it.
    const discriminator = (schema._zod.def as { discriminator?: string }).discriminator;
    let options = (schema.options as z.ZodType[]).filter((o) => accepts(o, value));
    if (discriminator !== undefined && !Array.isArray(value)) {
      const tag = (value as Record<string, unknown>)[discriminator];
      options = options.filter((o) => {
        const inner = unwrapped(o);
        return inner instanceof z.ZodObject && (inner.shape as Record<string, z.ZodType>)[discriminator]?.safeParse(tag).success === true;
      });
    }
    const branch = options.length === 1 ? options[0] : options.find((o) => o.safeParse(value).success);
    if (branch) walk(branch, value, path, found, extraKnown);
  }
}

/** Whether a union branch could hold `value` as far as its container goes (object or array). */
function accepts(schema: z.ZodType, value: object): boolean {
  const inner = unwrapped(schema);
  if (inner instanceof z.ZodObject || inner instanceof z.ZodRecord) return !Array.isArray(value);
  if (inner instanceof z.ZodArray) return Array.isArray(value);
  return inner instanceof z.ZodUnion || inner instanceof z.ZodPipe;
}

function unwrapped(schema: z.ZodType): z.ZodType {
  let current = schema;
  while (current instanceof z.ZodOptional || current instanceof z.ZodNullable || current instanceof z.ZodDefault || current instanceof z.ZodPrefault) {
    current = current._zod.def.innerType as z.ZodType;
  }
  return current;
}

/**
 * One line per unknown key: where it is, the closest known name when one is near, and the names
 * that level takes. `prefix` names the root (`initialState`, `arguments`).
 */
export function describeUnknownKeys(keys: readonly UnknownKey[], prefix = ''): string[] {
  return keys.map(({ path, key, known }) => {
    // The key is quoted after the path, not joined to it: a YAML slip can make a key of any text.
    const where = [prefix, ...path.map(String)].filter((p) => p !== '').join('.');
    const guess = closestName(key, known);
    const what = `unknown key ${JSON.stringify(key)}${guess ? ` (did you mean "${guess}"?)` : ''}; expected ${known.length > 0 ? `one of ${known.join(', ')}` : 'no keys here'}`;
    return where === '' ? what : `${where}: ${what}`;
  });
}

/** Edit distance counting a swap of neighbours as one edit ("compnay" is one from "company"). */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** The known name a misspelling most likely meant (case and `_`/`-` ignored, at most a third changed), if any. */
export function closestName(name: string, known: readonly string[]): string | undefined {
  const plain = (s: string): string => s.toLowerCase().replace(/[_-]/g, '');
  let best: { name: string; d: number } | undefined;
  for (const k of known) {
    const d = distance(plain(name), plain(k));
    if (!best || d < best.d) best = { name: k, d };
  }
  return best && best.d <= Math.max(1, Math.floor(name.length / 3)) ? best.name : undefined;
}
