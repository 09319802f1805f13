// Small readers and writers for the JSON Schema objects tools publish as `parameters`. Reshaping
// perturbations change only the top level (required, types of direct properties), so what they
// change is easy to state and to undo; tools.rename renames names at every depth
// (tools/deep-names.ts), since a nested name left as it was would give the original away. Schemas are
// never mutated: a perturbed spec is a new object that shares its unchanged parts with the
// original (environments cache their specs across episodes).
import type { JsonObject, JsonValue } from '../core/index.ts';

export function isObject(value: JsonValue | undefined): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The direct properties of an object schema, in order (empty for anything else). */
export function propertiesOf(parameters: JsonObject): [string, JsonObject][] {
  const properties = parameters.properties;
  if (!isObject(properties)) return [];
  return Object.entries(properties).flatMap(([name, schema]) => (isObject(schema) ? [[name, schema] as [string, JsonObject]] : []));
}

export function requiredOf(parameters: JsonObject): string[] {
  const required = parameters.required;
  return Array.isArray(required) ? required.filter((r): r is string => typeof r === 'string') : [];
}

/** The schema with new direct properties and required list (other keywords kept). */
export function withProperties(parameters: JsonObject, properties: [string, JsonObject][], required: readonly string[]): JsonObject {
  const out: JsonObject = { ...parameters, properties: Object.fromEntries(properties) };
  if (required.length > 0) out.required = [...required];
  else delete out.required;
  return out;
}

/** Whether the schema lets callers pass keys it does not list. */
export function allowsExtraKeys(parameters: JsonObject): boolean {
  const extra = parameters.additionalProperties;
  return extra !== undefined && extra !== false;
}

/** A deep copy through JSON, so perturbed specs never share objects with the environment's cached ones. */
export function cloneJson<T extends JsonValue>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** The `type` of a property schema when it names exactly one. */
export function typeOf(schema: JsonObject): string | undefined {
  return typeof schema.type === 'string' ? schema.type : undefined;
}
