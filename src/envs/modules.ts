// Environments defined in an author's own files: TypeScript or JavaScript modules whose exports
// are environment definitions, loaded and registered beside the built-in ones. The command line
// loads them (src/cli/env-modules.ts: --env-module, GAUNTLET_ENV_MODULES), and each rollout
// thread of a run loads the same files again: a thread has a registry of its own.
//
// One copy of Gauntlet: a module's `import { defineTool, ToolError } from 'gauntlet'` must reach the
// modules this thread runs (a bundle, or the sources), not a second copy loaded from the
// package's files, whose ToolError the episode loop would not recognise. So the public API is
// published on a global and `gauntlet` resolves to it (module-hooks.mjs for ES modules,
// module-api.cjs for modules compiled to CommonJS); `zod` resolves to our own the same way.
// Resolution hooks and the CommonJS resolver are per thread, so each thread routes its own.
import Module, { createRequire, register } from 'node:module';
import { statSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as zod from 'zod';
import { z } from 'zod';
import { errorMessage, InputError, zodIssueMessage } from '../core/index.ts';
import type { EnvironmentDefinition } from './define.ts';
import { BUILT_IN_SOURCE, environmentSource, registerEnvironment, unregisterEnvironment } from './registry.ts';

const EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'];
const EXPECTED_ENVIRONMENT_MODULE = 'a .ts, .mts, .js or .mjs module whose exports are environment definitions';
/** Read by module-hooks.mjs, module-api.cjs and module-zod.cjs. */
const API_KEY = 'gauntlet.public-api';
const ZOD_KEY = 'gauntlet.zod';

/** One module to load; `where` names it in messages (`--env-module pantry.ts`). */
export interface EnvironmentModuleRequest {
  file: string;
  where: string;
}

/** An environment registered from a module. */
export interface LoadedEnvironment {
  name: string;
  /** The module's absolute path. */
  file: string;
  /** `default`, `default[1]` or the named export. */
  exportName: string;
}

export interface LoadEnvironmentModulesOptions {
  /** Relative paths are resolved from here. */
  cwd?: string;
  /** How a module's load failure reads in the message (a caller may fold it onto one line); its message by default. */
  describeCause?: (error: unknown) => string;
}

/** Environments registered by `loadEnvironmentModules` in this thread, by name, with their file. */
const registeredHere = new Map<string, string>();

/**
 * Loads each module and registers the environments it exports. A module that is missing, fails to
 * load, exports no environment definition (or a broken one), or defines a name another
 * environment has is an InputError at the request's `where`.
 */
export async function loadEnvironmentModules(requests: readonly EnvironmentModuleRequest[], options: LoadEnvironmentModulesOptions = {}): Promise<LoadedEnvironment[]> {
  if (requests.length === 0) return [];
  const describeCause = options.describeCause ?? errorMessage;
  const loaded: LoadedEnvironment[] = [];
  for (const { where, file: given } of requests) {
    const file = resolve(options.cwd ?? process.cwd(), given);
    checkFile(file, where);
    await shareOneCopy();
    let namespace: Record<string, unknown>;
    try {
      namespace = await importModule(file);
    } catch (error) {
      throw new InputError(where, `cannot be loaded: ${describeCause(error)}`, EXPECTED_ENVIRONMENT_MODULE);
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

/** Forgets the environments this thread loaded from modules (the command is over). */
export function releaseEnvironmentModules(): void {
  for (const [name, file] of registeredHere) unregisterEnvironment(name, file);
  registeredHere.clear();
}

/** The module files (absolute, each once) that define any of `envs` here: what a run of them needs loaded in its rollout threads. */
export function environmentModulesFor(envs: readonly string[]): string[] {
  return [...new Set(envs.flatMap((env) => registeredHere.get(env) ?? []))];
}

function checkFile(file: string, where: string): void {
  let stat;
  try {
    stat = statSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(where, code === 'ENOENT' ? 'no such file' : `cannot be read: ${errorMessage(error)}`, EXPECTED_ENVIRONMENT_MODULE);
  }
  if (!stat.isFile()) throw new InputError(where, 'is not a file', EXPECTED_ENVIRONMENT_MODULE);
  if (!EXTENSIONS.includes(extname(file))) throw new InputError(where, `has the extension "${extname(file)}"`, EXPECTED_ENVIRONMENT_MODULE);
}

async function importModule(file: string): Promise<Record<string, unknown>> {
  // tsx only when a module is loaded: most commands and runs never need it.
  const { tsImport } = await import('tsx/esm/api');
  return (await tsImport(pathToFileURL(file).href, { parentURL: import.meta.url })) as Record<string, unknown>;
}

let sharing: Promise<void> | undefined;

/** Publishes the public API and zod, and routes `gauntlet` and `zod` to them; once per thread. */
function shareOneCopy(): Promise<void> {
  sharing ??= (async () => {
    // The package's face (above every module), imported only once an author's module asks for it.
    const api = (await import('../index.ts')) as Record<string, unknown>;
    const shared = globalThis as Record<symbol, unknown>;
    shared[Symbol.for(API_KEY)] = api;
    shared[Symbol.for(ZOD_KEY)] = zod;
    const ourPackage = new URL('../../package.json', import.meta.url);
    register(new URL('./module-hooks.mjs', import.meta.url), {
      data: { key: API_KEY, names: Object.keys(api).filter((name) => /^[A-Za-z_$][\w$]*$/.test(name)), zodParent: ourPackage.href },
    });
    routeCommonJs(new URL('./module-api.cjs', import.meta.url), new URL('./module-zod.cjs', import.meta.url), ourPackage);
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
  seededWorlds: z.strictObject({ restore: fn.optional() }).optional(),
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

/**
 * The members only an environment definition has: a named export holding any of them is meant as
 * one and must be whole; other named exports (helpers, constants) are the module's own business.
 */
const DEFINING_KEYS = Object.keys(definitionShape).filter((key) => key !== 'name' && key !== 'description');

function meantAsEnvironment(exportName: string, value: unknown): boolean {
  if (!isObject(value) || Array.isArray(value) || typeof (value as { then?: unknown }).then === 'function') return false;
  return exportName === 'default' || DEFINING_KEYS.some((key) => key in value);
}

/**
 * Each export's environment definition. A default export, or a named one holding a definition's
 * members, must be a whole definition (refused naming the export); other exports are skipped.
 */
function definitionsOf(namespace: Record<string, unknown>, where: string): { exportName: string; definition: EnvironmentDefinition }[] {
  // A module compiled to CommonJS arrives as one default export holding its exports.
  const commonJs = namespace.default;
  const exports = isObject(commonJs) && commonJs.__esModule === true ? { ...commonJs } : { ...namespace };
  delete exports.__esModule;
  const found: { exportName: string; definition: EnvironmentDefinition }[] = [];
  const skipped: string[] = [];
  const seen = new Set<unknown>();
  const take = (exportName: string, value: unknown) => {
    // The same definition exported twice (`export default mine` beside `export const mine`) is one.
    if (seen.has(value)) return;
    seen.add(value);
    found.push({ exportName, definition: definitionAt(value, exportName, where) });
  };
  for (const [exportName, value] of Object.entries(exports)) {
    if (exportName === 'default' && Array.isArray(value)) value.forEach((each, i) => take(`default[${i}]`, each));
    else if (meantAsEnvironment(exportName, value)) take(exportName, value);
    else skipped.push(`"${exportName}" (${describeValue(value)})`);
  }
  if (found.length === 0) {
    const exported = skipped.length === 0 ? '' : ` (it exports ${skipped.slice(0, 5).join(', ')}${skipped.length > 5 ? ', …' : ''})`;
    throw new InputError(where, `exports no environment${exported}`, `a default or named export of ${EXPECTED_DEFINITION.replace(/, or a default.*$/, '')}`);
  }
  return found;
}

function definitionAt(value: unknown, exportName: string, where: string): EnvironmentDefinition {
  const parsed = EnvironmentShape.safeParse(value);
  if (parsed.success) return value as EnvironmentDefinition;
  if (!isObject(value)) throw new InputError(where, `export ${JSON.stringify(exportName)} is ${describeValue(value)}, not an environment definition`, EXPECTED_DEFINITION);
  const issues = parsed.error.issues.slice(0, 3).map((issue) => {
    const path = issue.path.join('.');
    const message = issue.code === 'unrecognized_keys' ? `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}` : zodIssueMessage(issue);
    return path ? `${path}: ${message}` : message;
  });
  throw new InputError(where, `export ${JSON.stringify(exportName)} is not an environment definition: ${issues.join('; ')}`, EXPECTED_DEFINITION);
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  if (isObject(value) && typeof value.then === 'function') return 'a promise: await it where it is exported';
  if (typeof value === 'string') return 'a string';
  return typeof value === 'undefined' ? 'undefined' : typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
