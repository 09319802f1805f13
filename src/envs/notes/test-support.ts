// Helpers for the environment tests (notes and calendar): a placeholder-argument policy driven directly.
import type { JsonObject, JsonValue, Task } from '../../core/index.ts';
import type { EnvironmentDefinition } from '../define.ts';
import { instantiate, toolParametersSchema } from '../instance.ts';

type Schema = { type?: string | string[]; enum?: JsonValue[]; properties?: Record<string, Schema>; required?: string[]; items?: Schema; minimum?: number; minItems?: number; anyOf?: Schema[]; default?: JsonValue };

/** The laziest valid-looking value for a JSON Schema: "placeholder", 0, false, minimal arrays and objects. */
export function placeholderFor(schema: Schema): JsonValue {
  if (schema.enum && schema.enum.length > 0) return schema.enum[0]!;
  if (schema.anyOf && schema.anyOf.length > 0) return placeholderFor(schema.anyOf[0]!);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string':
      return 'placeholder';
    case 'number':
    case 'integer':
      return schema.minimum ?? 0;
    case 'boolean':
      return false;
    case 'array':
      return Array.from({ length: schema.minItems ?? 0 }, () => placeholderFor(schema.items ?? {}));
    case 'object': {
      const out: JsonObject = {};
      for (const key of schema.required ?? []) out[key] = placeholderFor(schema.properties?.[key] ?? {});
      return out;
    }
    default:
      return 'placeholder';
  }
}

/** Calls every tool once with placeholder arguments (submit last) and returns whether the task passed. */
export async function placeholderPasses(definition: EnvironmentDefinition, task: Task, seed = 1): Promise<boolean> {
  const env = instantiate(definition);
  const signal = new AbortController().signal;
  try {
    await env.reset(task, { seed });
    let answer: string | null = null;
    const tools = Object.entries(definition.tools).sort(([a], [b]) => (a === 'submit' ? 1 : b === 'submit' ? -1 : 0));
    for (const [name, tool] of tools) {
      const out = await env.call(name, placeholderFor(toolParametersSchema(tool.input) as Schema), { signal });
      if (out.ok && out.answer !== undefined) answer = out.answer;
    }
    return (await env.verify({ answer: answer ?? 'placeholder' })).passed;
  } finally {
    await env.close();
  }
}
