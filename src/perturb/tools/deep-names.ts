// Parameter names at every depth of a tool's parameter schema, for tools.rename: the names an
// object schema lists under `properties`, wherever that schema sits (`items`, tuple items,
// `anyOf`/`oneOf`/`allOf`, `additionalProperties`, local `$ref`s). An object schema that lists no
// properties is a free-form map: its keys are the caller's data (database property names, say),
// never parameter names, so they are neither renamed nor dropped.
import type { JsonObject, JsonValue } from '../../core/index.ts';
import { allowsExtraKeys, isObject } from '../json-schema.ts';

// Where JSON Schema nests schemas: one schema, a list of them, or a map of them by name.
const ONE = ['items', 'additionalItems', 'additionalProperties', 'not', 'contains', 'if', 'then', 'else'] as const;
const LIST = ['items', 'prefixItems', 'anyOf', 'oneOf', 'allOf'] as const;
const MAP = ['properties', 'patternProperties', '$defs', 'definitions'] as const;
const COMBINATORS = ['anyOf', 'oneOf', 'allOf'] as const;

function schemas(value: JsonValue | undefined): JsonObject[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

/** Every schema nested in `schema` (not `schema` itself), depth first, each once per position. */
function forEachSubschema(schema: JsonObject, visit: (sub: JsonObject) => void): void {
  for (const key of ONE) {
    const sub = schema[key];
    if (isObject(sub)) visit(sub);
  }
  for (const key of LIST) for (const sub of schemas(schema[key])) visit(sub);
  for (const key of MAP) {
    const map = schema[key];
    if (isObject(map)) for (const sub of Object.values(map)) if (isObject(sub)) visit(sub);
  }
}

/**
 * The property names listed at every depth below the top level of `schema` (the top level's own
 * are the caller's to list first), in the order they are met.
 */
export function nestedPropertyNames(schema: JsonObject, into: Set<string>): void {
  const walk = (node: JsonObject, top: boolean) => {
    if (!top && isObject(node.properties)) for (const name of Object.keys(node.properties)) into.add(name);
    forEachSubschema(node, (sub) => walk(sub, false));
  };
  walk(schema, true);
}

/** A free-form map: an object whose keys are data (`propertyNames`, `additionalProperties: {}`), not names. */
function isFreeFormMap(schema: JsonObject): boolean {
  return !isObject(schema.properties) && (allowsExtraKeys(schema) || isObject(schema.propertyNames) || isObject(schema.patternProperties));
}

function rebuild(entries: [string, JsonValue][]): JsonObject {
  // fromEntries defines own properties: a `__proto__` key stays a key, never a prototype.
  return Object.fromEntries(entries) as JsonObject;
}

/**
 * A local `$ref` with the property names on its path renamed (`#/properties/item` →
 * `#/properties/entry`), so it still points where it did in the renamed schema. Only a segment
 * right after `properties` is a property name; `$defs` and `definitions` keys are not renamed.
 */
function renameRef(ref: string, rename: (name: string) => string): string {
  if (!ref.startsWith('#/')) return ref;
  const segments = ref.slice(2).split('/');
  let keyOf: string | null = null;
  const out = segments.map((raw) => {
    const map = keyOf;
    keyOf = null;
    if (map === null) {
      if ((MAP as readonly string[]).includes(raw)) keyOf = raw;
      return raw;
    }
    if (map !== 'properties') return raw;
    const name = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    return rename(name).replace(/~/g, '~0').replace(/\//g, '~1');
  });
  return `#/${out.join('/')}`;
}

/**
 * The schema with every listed property renamed at every depth, `required` lists to match (except
 * in free-form maps, whose required keys are data) and every description rewritten. `renameValue`
 * rewrites a default given in the original terms (a default array of objects names their keys).
 */
export function renameSchema(
  schema: JsonObject,
  rename: (name: string) => string,
  describe: (text: string) => string,
  renameValue: (value: JsonValue, schema: JsonObject) => JsonValue,
): JsonObject {
  const sub = (value: JsonValue): JsonValue => (isObject(value) ? renameSchema(value, rename, describe, renameValue) : value);
  const entries = Object.entries(schema).map(([key, value]): [string, JsonValue] => {
    if (key === 'properties' && isObject(value)) return [key, rebuild(Object.entries(value).map(([name, s]) => [rename(name), sub(s)]))];
    if (key === 'required' && Array.isArray(value) && !isFreeFormMap(schema)) return [key, value.map((r) => (typeof r === 'string' ? rename(r) : r))];
    if (key === 'description' && typeof value === 'string') return [key, describe(value)];
    if (key === '$ref' && typeof value === 'string') return [key, renameRef(value, rename)];
    if (key === 'default') return [key, renameValue(value, schema)];
    if (key === 'examples' && Array.isArray(value)) return [key, value.map((v) => renameValue(v, schema))];
    if ((ONE as readonly string[]).includes(key) && isObject(value)) return [key, sub(value)];
    if ((LIST as readonly string[]).includes(key) && Array.isArray(value)) return [key, value.map(sub)];
    if ((MAP as readonly string[]).includes(key) && isObject(value)) return [key, rebuild(Object.entries(value).map(([name, s]) => [name, sub(s)]))];
    return [key, value];
  });
  return rebuild(entries);
}

/** The schema a local `$ref` (`#`, `#/$defs/Block`) points at within `root`. */
function resolveRef(root: JsonObject, ref: string): JsonObject | undefined {
  if (ref === '#') return root;
  if (!ref.startsWith('#/')) return undefined;
  let node: JsonValue | undefined = root;
  for (const raw of ref.slice(2).split('/')) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    node = isObject(node) && Object.hasOwn(node, part) ? node[part] : undefined;
  }
  return isObject(node) ? node : undefined;
}

/** The schema and every one a value must or may also match (combinator branches, references), each once. */
function facetsOf(list: readonly JsonObject[], root: JsonObject): JsonObject[] {
  const out: JsonObject[] = [];
  const seen = new Set<JsonObject>();
  const add = (schema: JsonObject) => {
    if (seen.has(schema)) return;
    seen.add(schema);
    out.push(schema);
    const target = typeof schema.$ref === 'string' ? resolveRef(root, schema.$ref) : undefined;
    if (target) add(target);
    for (const key of COMBINATORS) for (const branch of schemas(schema[key])) add(branch);
  };
  for (const schema of list) add(schema);
  return out;
}

/** The schemas for element `index` of an array: tuple positions (`prefixItems`, array `items`), then the rest. */
function itemSchemas(facets: readonly JsonObject[], index: number): JsonObject[] {
  return facets.flatMap((f): JsonObject[] => {
    const tuple = Array.isArray(f.prefixItems) ? f.prefixItems : Array.isArray(f.items) ? f.items : undefined;
    if (tuple && index < tuple.length) return schemas([tuple[index]!]);
    const rest = Array.isArray(f.prefixItems) ? f.items : Array.isArray(f.items) ? f.additionalItems : f.items;
    return isObject(rest) ? [rest] : [];
  });
}

/** An original name a caller used where the schema it was shown lists other names. */
export interface UnlistedOriginal {
  /** Where the object holding the key is, from the arguments' root (in the caller's terms). */
  path: (string | number)[];
  key: string;
  /** The names listed at that level, in the caller's terms. */
  listed: string[];
}

export interface KeyMapping {
  /** The name a listed key takes on the other side. */
  rename(key: string): string;
  /**
   * Set for a call on its way down: an unlisted key that is one of these original names is dropped
   * (it never slips through to be understood below) and reported to `found`, so the caller can
   * refuse the call rather than run it without that argument; any other unlisted key goes down as
   * written, for the environment to refuse by name, as it refuses a misspelt argument without the layer.
   */
  dropUnlisted?: { isOriginal(key: string): boolean; found?(unlisted: UnlistedOriginal): void };
}

/**
 * A value with its keys renamed at every depth, guided by `schema` (in the terms the value is in).
 * Listed keys are renamed; other keys are kept as they are, or dropped as `mapping` says. The top
 * level is always an object of parameters; below it, an object no schema lists properties for is a
 * free-form map, whose keys are kept as written.
 */
export function renameKeys(value: JsonValue, schema: JsonObject, root: JsonObject, mapping: KeyMapping): JsonValue {
  const walk = (node: JsonValue, list: readonly JsonObject[], path: (string | number)[]): JsonValue => {
    if (node === null || typeof node !== 'object') return node;
    const top = path.length === 0;
    const facets = facetsOf(list, root);
    if (Array.isArray(node)) return node.map((item, i) => walk(item, itemSchemas(facets, i), [...path, i]));
    const named = facets.filter((f) => isObject(f.properties));
    // A free-form map's keys are data: each kept as written, only its values walked.
    const freeForm = !top && named.length === 0;
    const extra = facets.filter(allowsExtraKeys);
    const valueSchemas = extra.flatMap((f) => (isObject(f.additionalProperties) ? [f.additionalProperties] : []));
    const entries: [string, JsonValue][] = [];
    for (const [key, item] of Object.entries(node)) {
      const listed = named.flatMap((f) => {
        const properties = f.properties as JsonObject;
        const sub = Object.hasOwn(properties, key) ? properties[key] : undefined;
        return isObject(sub) ? [sub] : [];
      });
      if (listed.length > 0) {
        entries.push([mapping.rename(key), walk(item, listed, [...path, key])]);
        continue;
      }
      const dropped = !freeForm && mapping.dropUnlisted !== undefined && mapping.dropUnlisted.isOriginal(key);
      if (!dropped) entries.push([key, walk(item, valueSchemas, [...path, key])]);
      else mapping.dropUnlisted?.found?.({ path, key, listed: [...new Set(named.flatMap((f) => Object.keys(f.properties as JsonObject)))] });
    }
    return rebuild(entries);
  };
  return walk(value, [schema], []);
}
