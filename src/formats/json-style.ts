import type { JsonValue } from '../core/index.ts';

/**
 * JSON as Python's `json.dumps(value, ensure_ascii=False)` writes it, which is what a chat
 * template's `tojson` filter prints (`{"a": 1, "b": [1, 2]}`): models learn this spacing, so
 * renderers that stand in for a template must write it too.
 */
export function pythonJson(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  return `{${Object.entries(value)
    .map(([key, item]) => `${JSON.stringify(key)}: ${pythonJson(item)}`)
    .join(', ')}}`;
}
