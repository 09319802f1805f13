// Environments defined in an author's own files, on the command line: `--env-module FILE`
// (repeatable) and GAUNTLET_ENV_MODULES name TypeScript or JavaScript modules whose exports are
// environment definitions, loaded (src/envs/modules.ts) before the command's action and registered
// beside the built-in ones. A run's rollout threads load the same files (`environmentModulesFor`).
import { delimiter, resolve } from 'node:path';
import type { Command } from 'commander';
import { errorMessage, InputError, type Run } from '../core/index.ts';
import { environmentNames, environmentSource, LOADED_FROM_FILE_HINT, loadEnvironmentModules as loadModules, type LoadedEnvironment } from '../envs/index.ts';
import { causeLine, type CliIo } from './io.ts';

export { environmentModulesFor, releaseEnvironmentModules, type LoadedEnvironment } from '../envs/index.ts';

export const ENV_MODULE_FLAG = '--env-module';
export const ENV_MODULES_VARIABLE = 'GAUNTLET_ENV_MODULES';

/**
 * Commands that take --env-module beyond those with --env or --tasks-file: they list, serve or run
 * whatever environments a run or a request names.
 */
const ALSO_LOADING = new Set(['envs', 'worker', 'serve', 'gate']);

/** One module to load, and where it was asked for (for messages). */
export interface EnvModuleRequest {
  file: string;
  from: typeof ENV_MODULE_FLAG | typeof ENV_MODULES_VARIABLE;
}

/**
 * The modules a command loads: GAUNTLET_ENV_MODULES' paths (separated by the platform's path
 * delimiter; empty parts skipped) and then each --env-module; a file named twice is loaded once.
 */
export function envModuleRequests(flags: readonly string[] | undefined, env: Record<string, string | undefined>, cwd = process.cwd()): EnvModuleRequest[] {
  const fromVariable = (env[ENV_MODULES_VARIABLE] ?? '')
    .split(delimiter)
    .map((part) => part.trim())
    .filter(Boolean)
    .map((file) => ({ file, from: ENV_MODULES_VARIABLE }) as const);
  const fromFlags = (flags ?? []).map((file) => ({ file, from: ENV_MODULE_FLAG }) as const);
  const seen = new Set<string>();
  return [...fromVariable, ...fromFlags].filter((request) => {
    const path = resolve(cwd, request.file);
    if (seen.has(path)) return false;
    seen.add(path);
    return true;
  });
}

/**
 * Loads the requested modules and registers the environments they export; a module that cannot
 * define environments is an InputError at `--env-module FILE` (or GAUNTLET_ENV_MODULES FILE).
 */
export function loadEnvironmentModules(requests: readonly EnvModuleRequest[], cwd = process.cwd()): Promise<LoadedEnvironment[]> {
  const located = requests.map(({ file, from }) => ({ file, where: `${from} ${file}` }));
  return loadModules(located, { cwd, describeCause: (error) => causeLine(errorMessage(error)) });
}

/** Whether `command` takes --env-module: it names, lists, runs or serves environments. */
function takesEnvironments(command: Command): boolean {
  return command.options.some((option) => option.long === '--env' || option.long === '--tasks-file') || ALSO_LOADING.has(command.name());
}

function allCommands(command: Command): Command[] {
  return command.commands.flatMap((sub) => [sub, ...allCommands(sub)]);
}

const collectFiles = (value: string, previous: string[] = []): string[] => [...previous, value];

/**
 * Gives every command that names, lists, runs or serves environments an --env-module flag, and loads
 * the modules (GAUNTLET_ENV_MODULES first) before such a command's action runs.
 */
export function addEnvironmentModules(program: Command, io: CliIo): void {
  for (const command of allCommands(program)) {
    if (!takesEnvironments(command)) continue;
    command.option(`${ENV_MODULE_FLAG} <file>`, `load environments from this .ts/.js module, which exports defineEnvironment({...}) results (repeatable; ${ENV_MODULES_VARIABLE} adds more, separated by "${delimiter}")`, collectFiles);
  }
  program.hook('preAction', async (_program, command) => {
    if (!command.options.some((option) => option.long === ENV_MODULE_FLAG)) return;
    const flags = command.opts<{ envModule?: string[] }>().envModule;
    await loadEnvironmentModules(envModuleRequests(flags, io.env));
  });
}

/**
 * Refuses a stored run (or eval) whose environments are not all known here: with the files the run
 * recorded them from (`--env-module FILE` for each), else how to load one from a file.
 */
export function refuseUnknownEnvironments(run: Pick<Run, 'config' | 'environmentFiles'>, where: string, what: string): void {
  const missing = run.config.envs.filter((env) => environmentSource(env) === undefined);
  if (missing.length === 0) return;
  const named = missing.map((env) => `"${env}"`).join(', ');
  const recorded = missing.flatMap((env) => {
    const file = run.environmentFiles?.[env];
    return file === undefined ? [] : [{ env, file }];
  });
  if (recorded.length > 0) {
    const loaded = recorded.map(({ env, file }) => (missing.length > 1 ? `"${env}" from ${file}` : file)).join(', ');
    const flags = [...new Set(recorded.map(({ file }) => `${ENV_MODULE_FLAG} ${file}`))].join(' ');
    throw new InputError(where, `${what} uses environment${missing.length > 1 ? 's' : ''} ${named}, unknown here: the run loaded ${missing.length > 1 ? 'them' : 'it'} from ${loaded}`, `${flags} beside --resume (or the file's new path if it moved; ${ENV_MODULES_VARIABLE} works too)`);
  }
  throw new InputError(where, `${what} uses environment${missing.length > 1 ? 's' : ''} ${named}, unknown here`, `one of ${environmentNames().join(', ')}; ${LOADED_FROM_FILE_HINT}`);
}

/** An "unknown environment" error with how an environment from a file is loaded; other errors as they are. */
export function withLoadHint(error: unknown): unknown {
  if (!(error instanceof InputError) || !/^unknown environment "/.test(error.problem) || error.expected?.includes(LOADED_FROM_FILE_HINT)) return error;
  return new InputError(error.where, error.problem, error.expected ? `${error.expected}; ${LOADED_FROM_FILE_HINT}` : LOADED_FROM_FILE_HINT);
}
