import { createRng, stableStringify, type JsonObject, type JsonValue, type Rng } from '../core/index.ts';

/**
 * Values that validate against a tool's JSON Schema, for the validation policies: `random`
 * explores (seeded), `placeholder` gives the dullest valid value (required keys only, 0, false,
 * 'placeholder', the first enum value). Covers what tool schemas use: type (and type lists),
 * const, enum, anyOf/oneOf/allOf, local $ref, properties/required, items/prefixItems,
 * min/max bounds, multipleOf and common string formats. `pattern` is not generated.
 */
export function randomValue(schema: JsonValue, rng: Rng): JsonValue {
  return generate(schema, { rng, placeholder: false, root: schema, depth: 0 });
}

export function placeholderValue(schema: JsonValue): JsonValue {
  // The rng only breaks ties that a single dull value cannot satisfy (uniqueItems).
  return generate(schema, { rng: createRng('placeholder'), placeholder: true, root: schema, depth: 0 });
}

/** Arguments for a tool call: always an object, even for a schema that says otherwise. */
export function randomArguments(parameters: JsonObject, rng: Rng): JsonObject {
  return asObject(randomValue(parameters, rng));
}

export function placeholderArguments(parameters: JsonObject): JsonObject {
  return asObject(placeholderValue(parameters));
}

function asObject(value: JsonValue): JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : {};
}

interface Gen {
  rng: Rng;
  placeholder: boolean;
  root: JsonValue;
  depth: number;
}

type Schema = { [key: string]: JsonValue };

const MAX_DEPTH = 6;
const WORDS = ['alpha', 'bravo', 'delta', 'echo', 'kilo', 'lima', 'oscar', 'tango', 'zulu'];

function generate(input: JsonValue, gen: Gen): JsonValue {
  const schema = resolve(input, gen.root);
  if (schema === null) return gen.placeholder ? 'placeholder' : gen.rng.pick(WORDS);
  if ('const' in schema) return schema.const ?? null;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return gen.placeholder ? (schema.enum[0] ?? null) : gen.rng.pick(schema.enum);
  const branches = Array.isArray(schema.anyOf) ? schema.anyOf : Array.isArray(schema.oneOf) ? schema.oneOf : undefined;
  if (branches && branches.length > 0) {
    const { anyOf: _a, oneOf: _o, ...rest } = schema;
    return generate(merge(rest, resolve(choose(branches, gen), gen.root) ?? {}), gen);
  }
  if (Array.isArray(schema.allOf)) {
    const { allOf, ...rest } = schema;
    return generate(allOf.reduce<Schema>((acc, part) => merge(acc, resolve(part, gen.root) ?? {}), rest), gen);
  }
  switch (pickType(schema, gen)) {
    case 'null':
      return null;
    case 'boolean':
      return gen.placeholder ? false : gen.rng.next() < 0.5;
    case 'integer':
      return numberValue(schema, gen, true);
    case 'number':
      return numberValue(schema, gen, false);
    case 'array':
      return arrayValue(schema, gen);
    case 'object':
      return objectValue(schema, gen);
    default:
      return stringValue(schema, gen);
  }
}

/** The schema as an object with a local `$ref` followed; null for `true`/`{}`-like "anything". */
function resolve(input: JsonValue, root: JsonValue): Schema | null {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return null;
  let schema: Schema = input;
  for (let hops = 0; typeof schema.$ref === 'string' && hops < 16; hops++) {
    const target = pointer(root, schema.$ref);
    const { $ref: _ref, ...rest } = schema;
    if (target === null || typeof target !== 'object' || Array.isArray(target)) return Object.keys(rest).length > 0 ? rest : null;
    schema = { ...target, ...rest };
  }
  return Object.keys(schema).length > 0 ? schema : null;
}

function pointer(root: JsonValue, ref: string): JsonValue | undefined {
  if (!ref.startsWith('#')) return undefined;
  let node: JsonValue | undefined = root;
  for (const raw of ref.slice(1).split('/').filter(Boolean)) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object') return undefined;
    node = Array.isArray(node) ? node[Number(key)] : node[key];
  }
  return node;
}

/** Combines a branch with its parent's keywords; properties and required are unioned. */
function merge(base: Schema, extra: Schema): Schema {
  const out: Schema = { ...base, ...extra };
  if (isSchemaMap(base.properties) && isSchemaMap(extra.properties)) out.properties = { ...base.properties, ...extra.properties };
  if (Array.isArray(base.required) && Array.isArray(extra.required)) out.required = [...new Set([...base.required, ...extra.required])];
  return out;
}

function choose<T>(items: readonly T[], gen: Gen): T {
  return gen.placeholder ? (items[0] as T) : gen.rng.pick(items);
}

function pickType(schema: Schema, gen: Gen): string {
  const type = schema.type;
  if (typeof type === 'string') return type;
  if (Array.isArray(type) && type.length > 0) {
    const names = type.filter((t): t is string => typeof t === 'string');
    const concrete = names.filter((t) => t !== 'null');
    if (gen.placeholder) return concrete[0] ?? 'null';
    return names.length > 0 ? gen.rng.pick(names) : 'string';
  }
  if ('properties' in schema || 'required' in schema || 'additionalProperties' in schema) return 'object';
  if ('items' in schema || 'prefixItems' in schema) return 'array';
  if ('minimum' in schema || 'maximum' in schema || 'exclusiveMinimum' in schema || 'exclusiveMaximum' in schema) return 'number';
  return 'string';
}

function numberValue(schema: Schema, gen: Gen, integer: boolean): number {
  const num = (v: JsonValue | undefined): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  let lo = num(schema.minimum);
  let hi = num(schema.maximum);
  const exLo = num(schema.exclusiveMinimum);
  const exHi = num(schema.exclusiveMaximum);
  if (integer) {
    if (lo !== undefined) lo = Math.ceil(lo);
    if (hi !== undefined) hi = Math.floor(hi);
    if (exLo !== undefined) lo = Math.max(lo ?? -Infinity, Math.floor(exLo) + 1);
    if (exHi !== undefined) hi = Math.min(hi ?? Infinity, Math.ceil(exHi) - 1);
  } else {
    // Step inside an exclusive bound by at most 1, staying clear of the other bound.
    if (exLo !== undefined) lo = Math.max(lo ?? -Infinity, exLo + Math.min(1, ((hi ?? exHi ?? exLo + 2) - exLo) / 2));
    if (exHi !== undefined) hi = Math.min(hi ?? Infinity, exHi - Math.min(1, (exHi - (lo ?? exHi - 2)) / 2));
  }
  const step = num(schema.multipleOf);
  if (gen.placeholder) {
    const value = Math.min(Math.max(0, lo ?? -Infinity), hi ?? Infinity);
    return step ? snap(value, step, lo, hi) : value;
  }
  const [wlo, whi] = sampleWindow(lo, hi);
  const value = integer ? gen.rng.int(wlo, whi + 1) : wlo + gen.rng.next() * (whi - wlo);
  return step ? snap(value, step, lo, hi) : value;
}

/** Where random numbers are drawn: open or very wide ranges (zod's safe-integer bounds) shrink to ~100 wide. */
function sampleWindow(lo: number | undefined, hi: number | undefined): [number, number] {
  if (lo === undefined && hi === undefined) return [0, 100];
  if (hi === undefined) return [lo as number, (lo as number) + 100];
  if (lo === undefined) return [hi - 100, hi];
  if (hi - lo <= 200) return [lo, hi];
  const center = Math.min(Math.max(0, lo), hi);
  const wlo = Math.max(lo, center - 100);
  return [wlo, Math.min(hi, wlo + 200)];
}

/** The multiple of `step` nearest `value` that stays within the bounds. */
function snap(value: number, step: number, lo: number | undefined, hi: number | undefined): number {
  let k = Math.round(value / step);
  if (lo !== undefined && k * step < lo) k = Math.ceil(lo / step);
  if (hi !== undefined && k * step > hi) k = Math.floor(hi / step);
  return k * step;
}

const FORMATS: Record<string, (n: number, word: string) => string> = {
  'date-time': (n) => `2026-01-${String((n % 28) + 1).padStart(2, '0')}T09:00:00Z`,
  date: (n) => `2026-01-${String((n % 28) + 1).padStart(2, '0')}`,
  time: (n) => `${String(n % 24).padStart(2, '0')}:00:00Z`,
  email: (_n, word) => `${word}@example.com`,
  uri: (_n, word) => `https://example.com/${word}`,
  url: (_n, word) => `https://example.com/${word}`,
  hostname: (_n, word) => `${word}.example.com`,
  ipv4: (n) => `10.0.0.${n % 255}`,
  uuid: (n) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
};

function stringValue(schema: Schema, gen: Gen): string {
  const format = typeof schema.format === 'string' ? FORMATS[schema.format] : undefined;
  if (format) return gen.placeholder ? format(0, 'placeholder') : format(gen.rng.int(0, 1000), gen.rng.pick(WORDS));
  const min = typeof schema.minLength === 'number' ? schema.minLength : 0;
  const max = typeof schema.maxLength === 'number' ? schema.maxLength : Infinity;
  let text = gen.placeholder ? 'placeholder' : gen.rng.pick(WORDS);
  if (!gen.placeholder && gen.rng.next() < 0.3) text += ` ${gen.rng.pick(WORDS)}`;
  while (text.length < min) text += 'x';
  return text.slice(0, Math.max(min, Math.min(max, text.length)));
}

function arrayValue(schema: Schema, gen: Gen): JsonValue[] {
  const min = typeof schema.minItems === 'number' ? schema.minItems : 0;
  const tuple = Array.isArray(schema.prefixItems) ? schema.prefixItems : Array.isArray(schema.items) ? schema.items : [];
  const rest = Array.isArray(schema.items) ? (schema.additionalItems ?? {}) : (schema.items ?? {});
  // `items: false` after a tuple closes it.
  const max = Math.min(typeof schema.maxItems === 'number' ? schema.maxItems : Infinity, rest === false ? tuple.length : Infinity);
  const shallow = gen.placeholder || gen.depth >= MAX_DEPTH;
  const length = shallow ? Math.max(min, 0) : gen.rng.int(min, Math.min(max, min + 3) + 1);
  const inner = { ...gen, depth: gen.depth + 1 };
  const out: JsonValue[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < length; i++) {
    const itemSchema = tuple[i] ?? rest;
    let value = generate(itemSchema, inner);
    // uniqueItems: re-draw a few times with the random stream, then give up on this slot.
    for (let tries = 0; schema.uniqueItems === true && seen.has(stableStringify(value)) && tries < 20; tries++) {
      value = generate(itemSchema, { ...inner, placeholder: false });
    }
    if (schema.uniqueItems === true && seen.has(stableStringify(value))) break;
    seen.add(stableStringify(value));
    out.push(value);
  }
  return out;
}

function objectValue(schema: Schema, gen: Gen): JsonObject {
  const properties = isSchemaMap(schema.properties) ? schema.properties : {};
  const required = Array.isArray(schema.required) ? schema.required.filter((k): k is string => typeof k === 'string') : [];
  const minProperties = typeof schema.minProperties === 'number' ? schema.minProperties : 0;
  const shallow = gen.placeholder || gen.depth >= MAX_DEPTH;
  const keys = new Set(required);
  for (const key of Object.keys(properties)) if (!shallow && gen.rng.next() < 0.5) keys.add(key);
  for (const key of Object.keys(properties)) if (keys.size < minProperties) keys.add(key);
  const extraSchema = schema.additionalProperties;
  for (let n = 0; keys.size < minProperties && extraSchema !== false; n++) keys.add(`extra_${n}`);
  const inner = { ...gen, depth: gen.depth + 1 };
  const out: JsonObject = {};
  // Declared order, then required keys the schema did not describe.
  for (const key of [...Object.keys(properties), ...keys]) {
    if (!keys.has(key) || key in out) continue;
    out[key] = generate(properties[key] ?? (extraSchema === false || extraSchema === true ? {} : (extraSchema ?? {})), inner);
  }
  return out;
}

function isSchemaMap(value: JsonValue | undefined): value is { [key: string]: JsonValue } {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
