import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isNode, LineCounter, parseDocument } from 'yaml';
import { InputError, Task, type TaskInput } from '../core/index.ts';

/** Line number (1-based) of the YAML node at `path`, or of the nearest parent that exists. */
function lineOf(doc: ReturnType<typeof parseDocument>, counter: LineCounter, path: (string | number)[]): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth), true);
    if (isNode(node) && node.range) return counter.linePos(node.range[0]).line;
  }
  return undefined;
}

const TASK_FIELDS = Object.keys(Task.shape);

/**
 * Reads tasks from a YAML or JSON file: one task, a list, or `{ tasks: [...] }`. Every problem is
 * reported with the file, the line and the field, and what was expected there.
 */
export function loadTaskFile(path: string, defaults: Partial<TaskInput> = {}): Task[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError(path, `cannot read task file (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const line = first.linePos?.[0]?.line;
    throw new InputError(`${path}${line ? `:${line}` : ''}`, `not valid YAML: ${first.message.split('\n')[0]}`);
  }
  const data: unknown = doc.toJS();
  let items: unknown[];
  let base: (string | number)[] = [];
  if (Array.isArray(data)) items = data;
  else if (data && typeof data === 'object' && Array.isArray((data as { tasks?: unknown }).tasks)) {
    items = (data as { tasks: unknown[] }).tasks;
    base = ['tasks'];
  } else items = [data];
  if (items.length === 0 || (items.length === 1 && (items[0] === null || items[0] === undefined))) {
    throw new InputError(path, 'no tasks', 'one task, a list of tasks, or { tasks: [...] }');
  }
  return items.map((item, index) => {
    const prefix = Array.isArray(data) || base.length > 0 ? [...base, index] : [];
    // A misspelt field ("limts") would otherwise be dropped and its default used instead.
    const unknown = item && typeof item === 'object' && !Array.isArray(item) ? Object.keys(item).find((key) => !TASK_FIELDS.includes(key)) : undefined;
    if (unknown !== undefined) {
      const line = lineOf(doc, counter, [...prefix, unknown]);
      throw new InputError(`${path}${line ? `:${line}` : ''}`, `field ${unknown}: not a task field`, `one of ${TASK_FIELDS.join(', ')} (free-form data goes in metadata)`);
    }
    const merged = item && typeof item === 'object' ? { ...defaults, ...(item as object) } : item;
    const result = Task.safeParse(merged);
    if (result.success) return result.data;
    const issue = result.error.issues[0]!;
    const fieldPath = [...prefix, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
    const line = lineOf(doc, counter, fieldPath);
    const field = issue.path.join('.') || '(task)';
    const more = result.error.issues.length > 1 ? ` (+${result.error.issues.length - 1} more)` : '';
    throw new InputError(`${path}${line ? `:${line}` : ''}`, `field ${field}: ${issue.message}${more}`);
  });
}

/** Every task file (.yaml, .yml, .json) in a directory, sorted by name, ids checked for duplicates. */
export function loadTaskDirectory(dir: string, defaults: Partial<TaskInput> = {}): Task[] {
  const files = readdirSync(dir)
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .sort();
  const tasks = files.flatMap((f) => loadTaskFile(join(dir, f), defaults));
  const seen = new Set<string>();
  for (const task of tasks) {
    if (seen.has(task.id)) throw new InputError(dir, `duplicate task id "${task.id}"`);
    seen.add(task.id);
  }
  return tasks;
}
