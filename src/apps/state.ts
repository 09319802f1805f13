// Small JSON state files kept beside the store (what the radar has seen, corrections): written
// whole through a temporary file and a rename, so a crash leaves the old file or the new one.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { z } from 'zod';
import { errorMessage, InputError, parseInput } from '../core/index.ts';

/** `<dir of the store>/<name>`; `:memory:` stores keep their state in the working directory's `.gauntlet/`. */
export function stateFileBeside(storePath: string, name: string): string {
  return storePath === ':memory:' ? resolve('.gauntlet', name) : join(dirname(resolve(storePath)), name);
}

export async function readState<T>(path: string, schema: z.ZodType<T>, empty: () => T): Promise<T> {
  if (!existsSync(path)) return empty();
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new InputError(path, `the state file cannot be read: ${errorMessage(error)}`, 'the JSON this command writes (move the file away to start afresh)');
  }
  return parseInput(schema, value, path);
}

export async function writeState(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(value, null, 2)}\n`);
  await rename(temporary, path);
}
