// Writes imported tasks as a task file `loadTaskFile` reads back (`gauntlet run --tasks-file`).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { stringify } from 'yaml';
import type { Task } from '../../core/index.ts';

/** `{ tasks: [...] }` as YAML, multi-line strings as literal blocks so scripts stay readable. */
export function writeTasksYaml(tasks: Task[], path: string): void {
  const header = `# ${tasks.length} task(s) imported by gauntlet; metadata.adaptations lists what was changed to run offline.\n`;
  const body = stringify({ tasks }, { lineWidth: 0, blockQuote: 'literal', aliasDuplicateObjects: false });
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, header + body, 'utf8');
}
