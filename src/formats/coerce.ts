import type { JsonObject, JsonValue } from '../core/index.ts';
import { readJson, TOO_DEEP } from './chat.ts';
import type { FormatError, ParseTool } from './types.ts';

// Parameter text from XML-style calls is typed by the tool's JSON Schema, as vLLM's and SGLang's
// MiniMax parsers do: the declared types are tried most specific first (integer, number, boolean,
// object, array, string). Unlike them, a value that fits no declared type stays a string *and*
// is reported, and a string-typed "null" stays the string "null".

export type Coerced = { ok: true; value: JsonValue } | { ok: false; value: string; expected: string; reason?: string };

const PRIORITY = ['integer', 'number', 'boolean', 'object', 'array', 'string'] as const;
const NULL_WORDS = new Set(['null', 'none', 'nil']);
const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);
const INTEGER = /^[-+]?\d+$/;
// `\d+(\.\d*)?`, not `\d+\.?\d*`: the latter splits a run of digits between its two `\d`s every
// way when the text fails to match, quadratic in the run (seconds at 40k digits).
const NUMBER = /^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/;

export interface ToolSchemas {
  has(name: string): boolean;
  /** The JSON Schema of parameter `param` of tool `tool`, or undefined when not declared. */
  property(tool: string, param: string): unknown;
}

export function toolSchemas(tools: readonly ParseTool[]): ToolSchemas {
  const byName = new Map<string, JsonObject | undefined>();
  for (const tool of tools) {
    if ('function' in tool) byName.set(tool.function.name, tool.function.parameters);
    else byName.set(tool.name, tool.parameters);
  }
  return {
    has: (name) => byName.has(name),
    property(tool, param) {
      const properties = byName.get(tool)?.properties;
      if (!properties || typeof properties !== 'object' || Array.isArray(properties)) return undefined;
      return Object.hasOwn(properties, param) ? properties[param] : undefined;
    },
  };
}

/** Every type a schema allows: `type` (string or list), `enum` values, and anyOf/oneOf/allOf branches. */
export function schemaTypes(schema: unknown): Set<string> {
  const types = new Set<string>();
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return types;
  const s = schema as Record<string, unknown>;
  if (typeof s.type === 'string') types.add(s.type);
  if (Array.isArray(s.type)) for (const t of s.type) if (typeof t === 'string') types.add(t);
  if (Array.isArray(s.enum)) for (const v of s.enum) types.add(jsonTypeOf(v));
  for (const key of ['anyOf', 'oneOf', 'allOf']) {
    const branches = s[key];
    if (Array.isArray(branches)) for (const branch of branches) for (const t of schemaTypes(branch)) types.add(t);
  }
  return types;
}

function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value; // string, boolean, object
}

/** Types `text` by `schema`; without a schema (or with no types in it) the text stays a string. */
export function coerceParameter(text: string, schema: unknown): Coerced {
  const types = schemaTypes(schema);
  if (types.size === 0) return { ok: true, value: text };
  if (types.has('null') && NULL_WORDS.has(text.trim().toLowerCase())) return { ok: true, value: null };
  for (const type of PRIORITY) {
    if (!types.has(type)) continue;
    const value = coerceTo(type, text);
    if (value !== undefined) return { ok: true, value };
  }
  // JSON refused only for its depth: say so, or "is not array" would not add up.
  const refused = types.has('object') || types.has('array') ? readJson(text.trim()) : undefined;
  const deep = refused !== undefined && 'problem' in refused && refused.problem === TOO_DEEP;
  return { ok: false, value: text, expected: [...types].join(' or '), ...(deep ? { reason: TOO_DEEP } : {}) };
}

function coerceTo(type: (typeof PRIORITY)[number], text: string): JsonValue | undefined {
  const t = text.trim();
  switch (type) {
    case 'string':
      return text;
    case 'integer': {
      if (!INTEGER.test(t)) return undefined;
      const n = Number(t);
      return Number.isSafeInteger(n) ? n : undefined;
    }
    case 'number': {
      if (!NUMBER.test(t)) return undefined;
      const n = Number(t);
      return Number.isFinite(n) ? n : undefined;
    }
    case 'boolean': {
      const word = t.toLowerCase();
      if (TRUE_WORDS.has(word)) return true;
      if (FALSE_WORDS.has(word)) return false;
      return undefined;
    }
    case 'object':
    case 'array': {
      const value = parseJson(t);
      if (value === undefined || value === null || typeof value !== 'object') return undefined;
      return Array.isArray(value) === (type === 'array') ? value : undefined;
    }
  }
}

function parseJson(text: string): JsonValue | undefined {
  const read = readJson(text);
  return 'value' in read ? read.value : undefined;
}

/**
 * Sets an argument the model named as an own property whatever its name: `args["__proto__"] = v`
 * would instead give the object a prototype, so the call would carry values its JSON (what is
 * recorded) does not show.
 */
export function setArgument(args: JsonObject, key: string, value: JsonValue): void {
  // `__proto__` is the one name plain assignment treats specially; defining a property costs far more than assigning one.
  if (key === '__proto__') Object.defineProperty(args, key, { value, enumerable: true, writable: true, configurable: true });
  else args[key] = value;
}

/** Where a parameter value sits, for typing it and for messages. */
export interface TypingScope {
  schemas: ToolSchemas | undefined;
  tool: string;
  /** How messages name the call: `tool call 0 (<tool_call> block 1, …)`. */
  where: string;
  index: number;
  errors: FormatError[];
  /**
   * How a value without a declared type reads: as the text itself (vLLM's MiniMax and Qwen3-Coder
   * parsers) or as JSON when it parses as JSON (vLLM's GLM-4.5 parser `json.loads` every value whose
   * schema does not say string).
   */
  untyped?: 'text' | 'json';
}

/** Parameter text typed by the tool's schema; a value that fits no declared type stays text and is reported. */
export function typeParameter(text: string, param: string, scope: TypingScope): JsonValue {
  const schema = scope.schemas?.property(scope.tool, param);
  if (schema === undefined || schemaTypes(schema).size === 0) {
    return scope.untyped === 'json' ? (parseJson(text.trim()) ?? text) : text;
  }
  const coerced = coerceParameter(text, schema);
  if (!coerced.ok) {
    scope.errors.push({
      kind: 'coercion',
      message: `${scope.where}: parameter "${param}" = ${quoteText(text)} is not ${coerced.expected} as the schema declares${coerced.reason ? ` (it ${coerced.reason})` : ''}; kept as a string`,
      callIndex: scope.index,
    });
  }
  return coerced.value;
}

/** A short quoted excerpt of model text for messages. */
export function quoteText(text: string): string {
  const t = text.trim();
  return JSON.stringify(t.length > 80 ? `${t.slice(0, 77)}...` : t);
}
