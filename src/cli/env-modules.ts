// Environments defined in an author's own files: `--env-module FILE` (repeatable) and
// GAUNTLET_ENV_MODULES name TypeScript or JavaScript modules whose exports are environment
// definitions, loaded before the command's action and registered beside the built-in ones.
//
// One copy of Gauntlet: a module's `import { defineTool, ToolError } from 'gauntlet'` must reach the
// modules this process runs (the bundle, or the sources), not a second copy loaded from the
// package's files, whose ToolError the episode loop would not recognise. So the public API is
// published on a global and `gauntlet` resolves to it (env-module-hooks.mjs for ES modules,
// env-module-api.cjs for modules compiled to CommonJS); `zod` resolves to our own the same way.
import Module, { createRequire, register } from 'node:module';
import { statSync } from 'node:fs';
import { delimiter, extname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import * as zod from 'zod';
import { z } from 'zod';
import { errorMessage, InputError } from '../core/index.ts';
import {
  BUILT_IN_SOURCE,
  environmentNames,
  environmentSource,
  getEnvironment,
  LOADED_FROM_FILE_HINT,
  registerEnvironment,
  unregisterEnvironment,
  type EnvironmentDefinition,
} from '../envs/index.ts';
import type { EnvironmentCatalog } from '../runner/index.ts';
import { causeLine, type CliIo } from './io.ts';

export const ENV_MODULE_FLAG = '--env-module';
export const ENV_MODULES_VARIABLE = 'GAUNTLET_ENV_MODULES';
const EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'];
const EXPECTED_FILE = 'a .ts, .mts, .js or .mjs module whose exports are environment definitions';
/** Read by env-module-hooks.mjs, env-module-api.cjs and env-module-zod.cjs. */
const API_KEY = 'gauntlet.public-api';
const ZOD_KEY = 'gauntlet.zod';

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

/** An environment registered from a module. */
export interface LoadedEnvironment {
  name: string;
  /** The module's absolute path. */
  file: string;
  /** `default`, `default[1]` or the named export. */
  exportName: string;
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

/** Environments registered by `loadEnvironmentModules` in this process, by name, with their file. */
const registeredHere = new Map<string, string>();

/**
 * Loads each module and registers the environments it exports. A module that is missing, fails to
 * load, exports something that is not an environment definition, or defines a name another
 * environment has is an InputError naming the file.
 */
export async function loadEnvironmentModules(requests: readonly EnvModuleRequest[], cwd = process.cwd()): Promise<LoadedEnvironment[]> {
  if (requests.length === 0) return [];
  const loaded: LoadedEnvironment[] = [];
  for (const request of requests) {
    const where = `${request.from} ${request.file}`;
    const file = resolve(cwd, request.file);
    checkFile(file, where);
    await shareOneCopy();
    let namespace: Record<string, unknown>;
    try {
      namespace = await importModule(file);
    } catch (error) {
      throw new InputError(where, `cannot be loaded: ${causeLine(errorMessage(error))}`, EXPECTED_FILE);
    }
    for (const { exportName, definition } of definitionsOf(namespace, where)) {
      const taken = environmentSource(definition.name);
      if (taken !== undefined && taken !== file) {
        const other = taken === BUILT_IN_SOURCE ? "by Gauntlet's built-in environments" : `in ${taken}`;
        throw new InputError(where, `export ${JSON.stringify(exportName)} defines environment "${definition.name}", which is already defined ${other}`, 'a name no other environment has');
      }
      const again = loaded.find((l) => l.name === definition.name);
      if (again) throw new InputError(where, `exports ${JSON.stringify(again.exportName)} and ${JSON.stringify(exportName)} both define environment "${definition.name}"`, 'one definition per name');
      registerEnvironment(definition.name, () => definition, { source: file });
      registeredHere.set(definition.name, file);
      loaded.push({ name: definition.name, file, exportName });
    }
  }
  return loaded;
}

/** Forgets the environments this process loaded from modules (the command is over). */
export function releaseEnvironmentModules(): void {
  for (const [name, file] of registeredHere) unregisterEnvironment(name, file);
  registeredHere.clear();
}

function checkFile(file: string, where: string): void {
  let stat;
  try {
    stat = statSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(where, code === 'ENOENT' ? 'no such file' : `cannot be read: ${errorMessage(error)}`, EXPECTED_FILE);
  }
  if (!stat.isFile()) throw new InputError(where, 'is not a file', EXPECTED_FILE);
  if (!EXTENSIONS.includes(extname(file))) throw new InputError(where, `has the extension "${extname(file)}"`, EXPECTED_FILE);
}

async function importModule(file: string): Promise<Record<string, unknown>> {
  // tsx only when a module is loaded: most commands never need it.
  const { tsImport } = await import('tsx/esm/api');
  return (await tsImport(pathToFileURL(file).href, { parentURL: import.meta.url })) as Record<string, unknown>;
}

let sharing: Promise<void> | undefined;

/** Publishes the public API and zod, and routes `gauntlet` and `zod` to them; once per process. */
function shareOneCopy(): Promise<void> {
  sharing ??= (async () => {
    const api = (await import('../index.ts')) as Record<string, unknown>;
    const shared = globalThis as Record<symbol, unknown>;
    shared[Symbol.for(API_KEY)] = api;
    shared[Symbol.for(ZOD_KEY)] = zod;
    const ourPackage = new URL('../../package.json', import.meta.url);
    register(new URL('./env-module-hooks.mjs', import.meta.url), {
      data: { key: API_KEY, names: Object.keys(api).filter((name) => /^[A-Za-z_$][\w$]*$/.test(name)), zodParent: ourPackage.href },
    });
    routeCommonJs(new URL('./env-module-api.cjs', import.meta.url), new URL('./env-module-zod.cjs', import.meta.url), ourPackage);
  })();
  return sharing;
}

type ResolveFilename = (this: unknown, request: string, parent: { filename?: string | null } | undefined, ...rest: unknown[]) => string;

/**
 * A module compiled to CommonJS (a .ts file in a package without "type": "module") requires its
 * imports; Node 20 has no resolution hook for `require`, so its resolver is wrapped.
 */
function routeCommonJs(apiFile: URL, zodFile: URL, ourPackage: URL): void {
  const loader = Module as unknown as { _resolveFilename: ResolveFilename };
  const next = loader._resolveFilename;
  const ours = createRequire(ourPackage);
  const api = fileURLToPath(apiFile);
  const zodFace = fileURLToPath(zodFile);
  loader._resolveFilename = function (request, parent, ...rest) {
    const outsidePackages = typeof parent?.filename === 'string' && !/[\\/]node_modules[\\/]/.test(parent.filename);
    if (request === 'gauntlet') return api;
    if (request === 'zod' && outsidePackages) return zodFace;
    if (request.startsWith('zod/') && outsidePackages) return ours.resolve(request);
    return next.call(this, request, parent, ...rest);
  };
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;
const fn = z.custom<(...args: never[]) => unknown>((value) => typeof value === 'function', 'expected a function');
const schema = z.custom<z.ZodType>((value) => isObject(value) && typeof value.safeParse === 'function', 'expected a zod schema');

/** What defineEnvironment returns, member by member (`satisfies` keeps it in step with the interface). */
const definitionShape = {
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'expected a name of letters, digits, ".", "_" or "-"'),
  description: z.string(),
  schema: z.string(),
  startTime: z.string().refine((text) => !Number.isNaN(Date.parse(text)), 'expected an ISO time'),
  stepMs: z.number().nonnegative().optional(),
  seed: fn,
  seedFixed: fn.optional(),
  initialState: schema.optional(),
  tools: z.record(z.string(), z.object({ description: z.string(), input: schema, run: fn, endsEpisode: z.boolean().optional() })),
  checks: z.record(z.string(), z.object({ kind: z.enum(['outcome', 'invariant']), description: z.string(), params: schema, run: fn, problems: fn.optional() })),
  events: z.record(z.string(), z.object({ description: z.string(), params: schema, apply: fn })).optional(),
  tasks: fn,
  destructive: fn,
  sandbox: z.boolean().optional(),
  requiresProcessSandbox: z.boolean().optional(),
  sandboxOptions: fn.optional(),
  overheadMs: fn.optional(),
  selfCheck: fn.optional(),
  followUp: fn.optional(),
  reward: z.record(z.string(), z.unknown()).optional(),
  extraSnapshot: fn.optional(),
  extraSnapshotTables: z.record(z.string(), z.array(z.string())).optional(),
} satisfies Record<keyof EnvironmentDefinition, z.ZodType>;
const EnvironmentShape = z.strictObject(definitionShape);

const EXPECTED_DEFINITION = 'what defineEnvironment({...}) returns (name, description, schema, startTime, seed, tools, checks, tasks, destructive), or a default export that is an array of them';

/** Each export's environment definition; anything else exported is refused, naming the export. */
function definitionsOf(namespace: Record<string, unknown>, where: string): { exportName: string; definition: EnvironmentDefinition }[] {
  // A module compiled to CommonJS arrives as one default export holding its exports.
  const commonJs = namespace.default;
  const exports = isObject(commonJs) && commonJs.__esModule === true ? { ...commonJs } : { ...namespace };
  const found: { exportName: string; definition: EnvironmentDefinition }[] = [];
  const seen = new Set<unknown>();
  const take = (exportName: string, value: unknown) => {
    // The same definition exported twice (`export default mine` beside `export const mine`) is one.
    if (seen.has(value)) return;
    seen.add(value);
    found.push({ exportName, definition: definitionAt(value, exportName, where) });
  };
  for (const [exportName, value] of Object.entries(exports)) {
    if (exportName === 'default' && Array.isArray(value)) value.forEach((each, i) => take(`default[${i}]`, each));
    else take(exportName, value);
  }
  if (found.length === 0) throw new InputError(where, 'exports no environment', `a default or named export of ${EXPECTED_DEFINITION.replace(/, or a default.*$/, '')}`);
  return found;
}

function definitionAt(value: unknown, exportName: string, where: string): EnvironmentDefinition {
  const parsed = EnvironmentShape.safeParse(value);
  if (parsed.success) return value as EnvironmentDefinition;
  if (!isObject(value)) throw new InputError(where, `export ${JSON.stringify(exportName)} is ${describeValue(value)}, not an environment definition`, EXPECTED_DEFINITION);
  const issues = parsed.error.issues.slice(0, 3).map((issue) => {
    const path = issue.path.join('.');
    const message = issue.code === 'unrecognized_keys' ? `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}` : issue.message;
    return path ? `${path}: ${message}` : message;
  });
  throw new InputError(where, `export ${JSON.stringify(exportName)} is not an environment definition: ${issues.join('; ')}`, EXPECTED_DEFINITION);
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'string') return 'a string';
  return typeof value === 'undefined' ? 'undefined' : `a ${typeof value}`;
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
 * The catalog a run of `envs` passes the runner: where one is loaded from a module, a catalog of
 * its own keeps the rollouts on this thread (rollout threads load only the built-in environments).
 */
export function catalogFor(envs: readonly string[]): EnvironmentCatalog | undefined {
  return loadedFromModule(envs) ? { names: environmentNames, get: getEnvironment } : undefined;
}

/** The first of `envs` loaded from a module, with its file. */
export function loadedFromModule(envs: readonly string[]): { name: string; file: string } | undefined {
  const name = envs.find((env) => registeredHere.has(env));
  return name === undefined ? undefined : { name, file: registeredHere.get(name)! };
}

/** Refuses a stored run (or eval) whose environments are not all known here, with how to load one from a file. */
export function refuseUnknownEnvironments(envs: readonly string[], where: string, what: string): void {
  const missing = envs.filter((env) => environmentSource(env) === undefined);
  if (missing.length === 0) return;
  const named = missing.map((env) => `"${env}"`).join(', ');
  throw new InputError(where, `${what} uses environment${missing.length > 1 ? 's' : ''} ${named}, unknown here`, `one of ${environmentNames().join(', ')}; ${LOADED_FROM_FILE_HINT}`);
}

/** An "unknown environment" error with how an environment from a file is loaded; other errors as they are. */
export function withLoadHint(error: unknown): unknown {
  if (!(error instanceof InputError) || !/^unknown environment "/.test(error.problem) || error.expected?.includes(LOADED_FROM_FILE_HINT)) return error;
  return new InputError(error.where, error.problem, error.expected ? `${error.expected}; ${LOADED_FROM_FILE_HINT}` : LOADED_FROM_FILE_HINT);
}
