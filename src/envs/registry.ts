import { InputError } from '../core/index.ts';
import type { EnvironmentDefinition } from './define.ts';

const builtins = new Map<string, () => EnvironmentDefinition>();

/** Built-in environments register a loader here so listing them does not load them all. */
export function registerEnvironment(name: string, load: () => EnvironmentDefinition): void {
  builtins.set(name, load);
}

export function environmentNames(): string[] {
  return [...builtins.keys()].sort();
}

export function getEnvironment(name: string): EnvironmentDefinition {
  const load = builtins.get(name);
  if (!load) throw new InputError('environment', `unknown environment "${name}"`, `one of ${environmentNames().join(', ') || '(none registered)'}`);
  return load();
}
