// tools.schema: the same tools with differently shaped parameters. Each change is undone on the
// way down, so the environment sees the call it always did, and the golden solution is reshaped on
// the way up. Only direct parameters change; nested schemas stay as they are.
import { z } from 'zod';
import type { JsonObject, JsonValue, Rng, ToolInvocation, ToolSpec } from '../../core/index.ts';
import { cloneJson, isObject, propertiesOf, requiredOf, typeOf, withProperties } from '../json-schema.ts';
import { definePerturbation, type LayerSession, type PerturbationTarget, type ToolLayer } from '../types.ts';
import { invalidArguments, specsOnlyLayer } from './layers.ts';

export const SCHEMA_CHANGES = ['nest', 'require-defaults', 'extra-optional', 'enum-to-string', 'bool-to-enum'] as const;
type SchemaChange = (typeof SCHEMA_CHANGES)[number];

function describeWith(schema: JsonObject, note: string): string {
  return typeof schema.description === 'string' && schema.description ? `${schema.description} (${note})` : note;
}

/** A layer that rewrites arguments per tool on the way down and golden arguments on the way up. */
function argumentsLayer(
  tools: readonly ToolSpec[],
  per: ReadonlyMap<string, { down(args: JsonObject): JsonObject | string; up(args: JsonObject): JsonObject }>,
): ToolLayer {
  const session: LayerSession = {
    async call(tool, args, below) {
      const change = per.get(tool);
      if (!change) return below(tool, args);
      const lowered = change.down(args);
      return typeof lowered === 'string' ? invalidArguments(`invalid arguments for ${tool}: ${lowered}`) : below(tool, lowered);
    },
  };
  const map = (step: ToolInvocation, direction: 'up' | 'down'): ToolInvocation => {
    const change = per.get(step.tool);
    if (!change) return step;
    if (direction === 'up') return { tool: step.tool, arguments: change.up(step.arguments) };
    const lowered = change.down(step.arguments);
    return typeof lowered === 'string' ? step : { tool: step.tool, arguments: lowered };
  };
  return { tools, lift: (steps) => steps.map((s) => map(s, 'up')), lower: (call) => map(call, 'down'), open: () => session };
}

const NEST_KEYS = ['request', 'params', 'input', 'options', 'payload'] as const;

function nest(tools: readonly ToolSpec[], rng: Rng): ToolLayer {
  const key = rng.pick(NEST_KEYS);
  const per = new Map<string, { down(args: JsonObject): JsonObject | string; up(args: JsonObject): JsonObject }>();
  const specs = tools.map((spec): ToolSpec => {
    const needed = requiredOf(spec.parameters).length > 0;
    const inner = { ...spec.parameters, description: 'the arguments of this call' };
    per.set(spec.name, {
      down(args) {
        const extra = Object.keys(args).filter((k) => k !== key);
        if (extra.length > 0) return `put the arguments inside "${key}" (got ${extra.map((k) => `"${k}"`).join(', ')} at the top level)`;
        const value = args[key];
        if (value === undefined) return needed ? `"${key}" is required` : {};
        return isObject(value) ? value : `"${key}" must be an object`;
      },
      up: (args) => ({ [key]: args }),
    });
    return { ...spec, parameters: { type: 'object', properties: { [key]: inner }, ...(needed ? { required: [key] } : {}), additionalProperties: false } };
  });
  return argumentsLayer(specs, per);
}

function requireDefaults(tools: readonly ToolSpec[]): ToolLayer {
  const per = new Map<string, { down(args: JsonObject): JsonObject | string; up(args: JsonObject): JsonObject }>();
  const specs = tools.map((spec): ToolSpec => {
    const defaults = new Map<string, JsonValue>();
    const properties = propertiesOf(spec.parameters).map(([name, schema]): [string, JsonObject] => {
      if (schema.default === undefined) return [name, schema];
      defaults.set(name, schema.default);
      const { default: _dropped, ...rest } = schema;
      return [name, rest];
    });
    if (defaults.size === 0) return spec;
    const required = [...requiredOf(spec.parameters), ...defaults.keys()];
    per.set(spec.name, {
      down(args) {
        const missing = [...defaults.keys()].filter((k) => args[k] === undefined);
        return missing.length > 0 ? `missing required argument${missing.length > 1 ? 's' : ''} ${missing.map((k) => `"${k}"`).join(', ')}` : args;
      },
      up: (args) => ({ ...Object.fromEntries([...defaults].map(([k, v]) => [k, cloneJson(v)])), ...args }),
    });
    return { ...spec, parameters: withProperties(spec.parameters, properties, required) };
  });
  return argumentsLayer(specs, per);
}

// Fields that change nothing, and say so: a model should be able to leave them out.
const EXTRA_FIELDS: readonly [string, JsonObject][] = [
  ['audit_note', { type: 'string', description: 'free text stored in the request log; does not change the result' }],
  ['client_request_id', { type: 'string', description: 'an id of your choosing, echoed in logs only' }],
  ['trace', { type: 'boolean', description: 'log this request for debugging; does not change the result' }],
  ['locale_hint', { type: 'string', description: 'informational only: the locale of the person you act for' }],
];

function extraOptional(tools: readonly ToolSpec[], rng: Rng): ToolLayer {
  const per = new Map<string, { down(args: JsonObject): JsonObject | string; up(args: JsonObject): JsonObject }>();
  const specs = tools.map((spec): ToolSpec => {
    const existing = new Set(propertiesOf(spec.parameters).map(([name]) => name));
    const added = rng
      .shuffle(EXTRA_FIELDS)
      .filter(([name]) => !existing.has(name))
      .slice(0, rng.int(1, 3));
    const names = new Set(added.map(([name]) => name));
    per.set(spec.name, {
      down: (args) => Object.fromEntries(Object.entries(args).filter(([k]) => !names.has(k))),
      up: (args) => args,
    });
    const properties = [...propertiesOf(spec.parameters), ...added];
    return { ...spec, parameters: withProperties(spec.parameters, properties, requiredOf(spec.parameters)) };
  });
  return argumentsLayer(specs, per);
}

function isStringEnum(schema: JsonObject): schema is JsonObject & { enum: string[] } {
  return Array.isArray(schema.enum) && schema.enum.length > 0 && schema.enum.every((v) => typeof v === 'string');
}

function enumToString(tools: readonly ToolSpec[]): ToolLayer {
  const specs = tools.map((spec): ToolSpec => {
    const properties = propertiesOf(spec.parameters).map(([name, schema]): [string, JsonObject] => {
      if (!isStringEnum(schema)) return [name, schema];
      const { enum: values, ...rest } = schema;
      return [name, { ...rest, type: 'string', description: describeWith(schema, `one of ${(values as string[]).join(', ')}`) }];
    });
    return { ...spec, parameters: withProperties(spec.parameters, properties, requiredOf(spec.parameters)) };
  });
  return specsOnlyLayer(specs);
}

function boolToEnum(tools: readonly ToolSpec[]): ToolLayer {
  const per = new Map<string, { down(args: JsonObject): JsonObject | string; up(args: JsonObject): JsonObject }>();
  const specs = tools.map((spec): ToolSpec => {
    const flags = new Set<string>();
    const properties = propertiesOf(spec.parameters).map(([name, schema]): [string, JsonObject] => {
      if (typeOf(schema) !== 'boolean') return [name, schema];
      flags.add(name);
      const out: JsonObject = { type: 'string', enum: ['yes', 'no'] };
      if (typeof schema.description === 'string') out.description = schema.description;
      if (typeof schema.default === 'boolean') out.default = schema.default ? 'yes' : 'no';
      return [name, out];
    });
    if (flags.size === 0) return spec;
    per.set(spec.name, {
      down(args) {
        const out: JsonObject = { ...args };
        for (const flag of flags) {
          const value = args[flag];
          if (value === undefined) continue;
          if (value !== 'yes' && value !== 'no') return `"${flag}" must be "yes" or "no", got ${JSON.stringify(value)}`;
          out[flag] = value === 'yes';
        }
        return out;
      },
      up: (args) => Object.fromEntries(Object.entries(args).map(([k, v]) => [k, flags.has(k) && typeof v === 'boolean' ? (v ? 'yes' : 'no') : v])),
    });
    return { ...spec, parameters: withProperties(spec.parameters, properties, requiredOf(spec.parameters)) };
  });
  return argumentsLayer(specs, per);
}

function applies(change: SchemaChange, target: PerturbationTarget): string | null {
  if (target.tools.length === 0) return 'the task offers no tools';
  const properties = target.tools.flatMap((t) => propertiesOf(t.parameters).map(([, schema]) => schema));
  switch (change) {
    case 'require-defaults':
      return properties.some((p) => p.default !== undefined) ? null : 'no parameter has a default';
    case 'enum-to-string':
      return properties.some(isStringEnum) ? null : 'no parameter is an enum of strings';
    case 'bool-to-enum':
      return properties.some((p) => typeOf(p) === 'boolean') ? null : 'no parameter is a boolean';
    default:
      return null;
  }
}

export const schema = definePerturbation({
  id: 'tools.schema',
  family: 'tools',
  summary: 'reshapes parameters: nest them in one object, make defaulted ones required, add ignored optional fields, turn enums into strings, or booleans into yes/no',
  randomised: (params) => params.change === 'nest' || params.change === 'extra-optional',
  params: z.object({ change: z.enum(SCHEMA_CHANGES).default('nest') }).strict(),
  supports: (target, params) => applies(params.change, target),
  apply(target, { rng, params }) {
    const tools = target.tools;
    switch (params.change) {
      case 'nest':
        return { layer: nest(tools, rng) };
      case 'require-defaults':
        return { layer: requireDefaults(tools) };
      case 'extra-optional':
        return { layer: extraOptional(tools, rng) };
      case 'enum-to-string':
        return { layer: enumToString(tools) };
      case 'bool-to-enum':
        return { layer: boolToEnum(tools) };
    }
  },
});

