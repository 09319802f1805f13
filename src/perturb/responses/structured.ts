import type { JsonValue, ToolOutcome } from '../../core/index.ts';

/**
 * The JSON a tool returned, when its content is exactly that JSON rendered (environments render
 * structured results so). Text results — a file's content, a command's output — are not
 * structured even when the text happens to be JSON, and are never reshaped.
 */
export function structuredData(outcome: ToolOutcome): JsonValue[] | { [key: string]: JsonValue } | null {
  if (!outcome.ok || outcome.data === undefined || outcome.data === null || typeof outcome.data !== 'object') return null;
  return outcome.content === JSON.stringify(outcome.data) ? outcome.data : null;
}
