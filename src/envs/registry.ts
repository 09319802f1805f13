import { InputError } from '../core/index.ts';
import type { EnvironmentDefinition } from './define.ts';

/** What `environmentSource` answers for the environments that ship with Gauntlet. */
export const BUILT_IN_SOURCE = 'built-in';

/**
 * Why a name can be unknown here though it ran elsewhere: an environment defined in a file exists
 * only in the processes that load that file.
 */
export const LOADED_FROM_FILE_HINT = 'or one defined in a file, loaded with --env-module FILE or GAUNTLET_ENV_MODULES (again when resuming, and on each worker)';

interface Entry {
  load: () => EnvironmentDefinition;
  /** The file that defined it; absent for built-ins. */
  source?: string;
}

const entries = new Map<string, Entry>();

const describeSource = (source: string | undefined) => (source === undefined ? "by Gauntlet's built-in environments" : `in ${source}`);

/**
 * Registers an environment under `name`, loaded on first use so listing them does not load them all.
 * `source` names the file of one defined outside Gauntlet: such a name may neither take one already
 * registered from elsewhere nor be taken (registering it again from the same file replaces it).
 */
export function registerEnvironment(name: string, load: () => EnvironmentDefinition, options: { source?: string } = {}): void {
  const existing = entries.get(name);
  if (existing && (existing.source !== undefined || options.source !== undefined) && existing.source !== options.source) {
    throw new InputError(options.source ?? `environment ${name}`, `environment "${name}" is already defined ${describeSource(existing.source)}`, 'a name no other environment has');
  }
  entries.set(name, { load, ...(options.source !== undefined ? { source: options.source } : {}) });
}

/** Removes an environment registered from `source` (a file); built-ins and other files' environments stay. */
export function unregisterEnvironment(name: string, source: string): void {
  if (entries.get(name)?.source === source) entries.delete(name);
}

/** Where `name` was defined: its file, or BUILT_IN_SOURCE; undefined when no environment has that name. */
export function environmentSource(name: string): string | undefined {
  const entry = entries.get(name);
  return entry ? (entry.source ?? BUILT_IN_SOURCE) : undefined;
}

/**
 * The files the named environments were loaded from (`--env-module`), by name: what a run records
 * so that a resume or worker lacking one can say which file to load. Undefined when all are built in.
 */
export function environmentFiles(names: readonly string[]): Record<string, string> | undefined {
  const files = names.flatMap((name) => {
    const source = entries.get(name)?.source;
    return source === undefined ? [] : [[name, source] as const];
  });
  return files.length === 0 ? undefined : Object.fromEntries(files);
}

export function environmentNames(): string[] {
  return [...entries.keys()].sort();
}

export function getEnvironment(name: string): EnvironmentDefinition {
  const entry = entries.get(name);
  if (!entry) throw new InputError('environment', `unknown environment "${name}"`, `one of ${environmentNames().join(', ') || '(none registered)'}; ${LOADED_FROM_FILE_HINT}`);
  return entry.load();
}
