// A task's initial state and verifier are parsed by every episode of the task, thousands of times
// in a run, though they never change. The parse of such a part is kept with the part's object.
import type { z } from 'zod';

const kept = new WeakMap<object, Map<z.ZodType, z.ZodSafeParseResult<unknown>>>();

/**
 * `schema.safeParse(value)`, kept with the object `part` (`value` itself unless `value` is made
 * from `part` anew on each call): later calls with the same part and schema return the first
 * result. The part and the parsed data are frozen deeply, so an episode that tried to change
 * either would throw rather than change what the next episode of the task sees.
 */
export function parseTaskPart<S extends z.ZodType>(schema: S, value: unknown, part: unknown = value): z.ZodSafeParseResult<z.output<S>> {
  if (typeof part !== 'object' || part === null) return schema.safeParse(value);
  let bySchema = kept.get(part);
  let result = bySchema?.get(schema) as z.ZodSafeParseResult<z.output<S>> | undefined;
  if (!result) {
    result = schema.safeParse(value);
    deepFreeze(part);
    if (result.success) deepFreeze(result.data);
    if (!bySchema) kept.set(part, (bySchema = new Map()));
    bySchema.set(schema, result);
  }
  return result;
}

/** Objects this module froze with everything below them (an object frozen elsewhere may hold unfrozen ones). */
const deeplyFrozen = new WeakSet<object>();

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || deeplyFrozen.has(value) || ArrayBuffer.isView(value)) return;
  deeplyFrozen.add(value);
  Object.freeze(value);
  for (const member of Object.values(value)) deepFreeze(member);
}
