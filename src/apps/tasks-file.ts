// Question-set task files the apps write: the format `gauntlet run/eval --tasks-file` reads.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { z } from 'zod';
import { errorMessage, InputError, JsonObject, parseInput, type TaskInput } from '../core/index.ts';

const TasksDocument = z.object({ tasks: z.array(JsonObject) }).loose();

/** The tasks already in a tasks file; none when there is no file yet. */
export async function readTasksFile(path: string): Promise<JsonObject[]> {
  if (!existsSync(path)) return [];
  let value: unknown;
  try {
    value = parseYaml(await readFile(path, 'utf8'));
  } catch (error) {
    throw new InputError(path, `cannot read the existing tasks file: ${errorMessage(error)}`, 'a YAML file with `tasks: [...]`');
  }
  return parseInput(TasksDocument, value, path).tasks;
}

/** Writes `tasks` to `path`; with `merge`, tasks already there stay unless one of `tasks` has the same id. */
export async function writeTasksFile(path: string, tasks: readonly TaskInput[], options: { header: string; merge: boolean }): Promise<{ written: number; total: number }> {
  let kept: JsonObject[] = [];
  if (options.merge) {
    const ids = new Set(tasks.map((t) => t.id));
    kept = (await readTasksFile(path)).filter((t) => !ids.has(String(t.id)));
  }
  const all = [...kept, ...tasks];
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `# ${options.header}\n${stringifyYaml({ tasks: all }, { lineWidth: 0 })}`);
  return { written: tasks.length, total: all.length };
}
