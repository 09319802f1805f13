import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isScalar } from 'yaml';
import { fileErrorCode, InputError, lineOf, parseInputText, readInputFile, Task, zodIssueMessage, type TaskInput } from '../core/index.ts';

const TASK_FIELDS = Object.keys(Task.shape);

/**
 * Reads tasks from a YAML or JSON file: one task, a list, or `{ tasks: [...] }`. Every problem is
 * reported with the file, the line and the field, and what was expected there.
 */
export function loadTaskFile(path: string, defaults: Partial<TaskInput> = {}): Task[] {
  const text = readInputFile(path, { cannotOpen: (error) => new InputError(path, `cannot read task file (${fileErrorCode(error)})`) });
  const parsed = parseInputText(text, path, { lineInWhere: true });
  const data = parsed.value;
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
      const line = lineOf(parsed, [...prefix, unknown]);
      throw new InputError(`${path}${line ? `:${line}` : ''}`, `field ${unknown}: not a task field`, `one of ${TASK_FIELDS.join(', ')} (free-form data goes in metadata)`);
    }
    const merged = item && typeof item === 'object' ? { ...defaults, ...(item as object) } : item;
    const result = Task.safeParse(merged);
    if (result.success) return result.data;
    const issue = result.error.issues[0]!;
    const fieldPath = [...prefix, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
    const line = lineOf(parsed, fieldPath);
    const field = issue.path.join('.') || '(task)';
    const more = result.error.issues.length > 1 ? ` (+${result.error.issues.length - 1} more)` : '';
    throw new InputError(`${path}${line ? `:${line}` : ''}`, `field ${field}: ${zodIssueMessage(issue)}${more}`);
  });
}

/**
 * The line of a task file where a problem with its `index`th task sits: `problem` as taskProblems
 * words it (`initialState.messages.0.id: …`, `verifier.checks.0 (name).table: …`, `…: unknown key
 * "mesages" …`). Undefined when the file cannot be read again or names no such place. Read only
 * when a task is refused, so loading pays nothing for it.
 */
export function taskProblemLine(path: string, index: number, problem: string): number | undefined {
  const located = /^([\w$-]+(?:\.[\w$-]+)*)(?: \([^)]*\))?((?:\.[\w$-]+)*):/.exec(problem);
  if (!located) return undefined;
  const unknownKey = /: unknown key "([^"]+)"/.exec(problem)?.[1];
  const steps = [...located[1]!.split('.'), ...located[2]!.split('.').filter(Boolean), ...(unknownKey !== undefined ? [unknownKey] : [])].map((step) => (/^\d+$/.test(step) ? Number(step) : step));
  try {
    const parsed = parseInputText(readInputFile(path, { cannotOpen: () => new InputError(path, 'cannot read') }), path, { lineInWhere: true });
    const data = parsed.value;
    const prefix = Array.isArray(data) ? [index] : data && typeof data === 'object' && Array.isArray((data as { tasks?: unknown }).tasks) ? ['tasks', index] : [];
    if (unknownKey !== undefined) {
      // The key's own line: a block value starts on the line after it.
      const { doc, lines } = parsed.document();
      const parent = doc.getIn([...prefix, ...steps.slice(0, -1)], true);
      const pair = isMap(parent) ? parent.items.find((item) => isScalar(item.key) && item.key.value === unknownKey) : undefined;
      if (pair && isScalar(pair.key) && pair.key.range) return lines.linePos(pair.key.range[0]).line;
    }
    return lineOf(parsed, [...prefix, ...steps]);
  } catch {
    // The file changed or went away since it was loaded: the task and the path inside it still say where.
    return undefined;
  }
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
