// What can be known about a task before any episode runs: its world options, verifier checks and
// scheduled events exist and take the parameters given. Runs check this up front, so a broken
// task is an input error naming the task, not a rollout that fails halfway.
import { z } from 'zod';
import { describeZodIssues, type JsonObject, type Task } from '../core/index.ts';
import { genericChecks } from './checks.ts';
import { VerifierSpec, WorldOptions, type EnvironmentDefinition, type WorldShape } from './define.ts';
import { schemaTables } from './images.ts';
import { interopChecks } from './interop/checks.ts';
import { describeUnknownKeys, unknownKeys, type UnknownKey } from './unknown-keys.ts';

/** Every check may carry a `name`: verify labels its result with it. */
const CHECK_LABEL = ['name'];

/** Problems with the task as data for this environment; empty when none. */
export function taskProblems(definition: EnvironmentDefinition, task: Task): string[] {
  const problems: string[] = [];
  if (task.env !== definition.name) problems.push(`env is "${task.env}", not "${definition.name}"`);
  problems.push(...initialStateProblems(definition, task.initialState));
  const spec = VerifierSpec.safeParse(task.verifier);
  if (!spec.success) problems.push(`verifier\n${describeZodIssues(spec.error.issues, 'verifier')}`);
  else {
    spec.data.checks.forEach(({ check, ...params }, i) => {
      const known = definition.checks[check] ?? genericChecks[check] ?? interopChecks[check];
      if (!known) problems.push(`verifier.checks.${i}: unknown check "${check}"`);
      else {
        const lines = issueLines(known.params, params, { prefix: `verifier.checks.${i} (${check})`, extraKnown: CHECK_LABEL });
        problems.push(...lines);
        const parsed = known.params.safeParse(params);
        if (lines.length === 0 && parsed.success) {
          for (const problem of known.problems?.(parsed.data, worldShape(definition)) ?? []) problems.push(`verifier.checks.${i} (${check}): ${problem}`);
        }
      }
    });
  }
  task.golden.steps.forEach((step, i) => {
    const tool = definition.tools[step.tool];
    if (!tool) problems.push(`golden.steps.${i}: unknown tool "${step.tool}" (tools: ${Object.keys(definition.tools).join(', ') || 'none'})`);
    // A misspelt optional argument would be dropped and the step would still pass.
    else problems.push(...issueLines(tool.input, step.arguments, { prefix: `golden.steps.${i}.arguments` }));
  });
  return problems;
}

const stateProblems = new WeakMap<object, WeakMap<EnvironmentDefinition, string[]>>();

/**
 * Problems with a task's `initialState` for this environment: the world options, the
 * environment's own part (`definition.initialState`), keys either would drop at any level, and
 * the scheduled events' names and parameters. Kept per state object, as reset asks on every episode.
 */
export function initialStateProblems(definition: EnvironmentDefinition, initialState: JsonObject): string[] {
  let byDefinition = stateProblems.get(initialState);
  let problems = byDefinition?.get(definition);
  if (problems) return problems;
  problems = findStateProblems(definition, initialState);
  if (!byDefinition) stateProblems.set(initialState, (byDefinition = new WeakMap()));
  byDefinition.set(definition, problems);
  return problems;
}

function findStateProblems(definition: EnvironmentDefinition, initialState: JsonObject): string[] {
  const problems: string[] = [];
  const world = WorldOptions.safeParse(initialState);
  const own = definition.initialState?.safeParse(initialState);
  const issues = [...(world.success ? [] : world.error.issues), ...(own?.success === false ? own.error.issues : [])];
  const lines = describe(issues, unknownKeys(stateSchema(definition), initialState), 'initialState');
  problems.push(...new Set(lines));
  if (!world.success) return problems;
  world.data.schedule.forEach((event, i) => {
    const known = definition.events?.[event.event];
    if (!known) problems.push(`initialState.schedule.${i}: unknown world event "${event.event}" (known: ${Object.keys(definition.events ?? {}).join(', ') || 'none'})`);
    else problems.push(...issueLines(known.params, event.params, { prefix: `initialState.schedule.${i}.params` }));
  });
  for (const tool of world.data.flakyTools) if (!definition.tools[tool]) problems.push(`initialState.flakyTools: unknown tool "${tool}"`);
  return problems;
}

const stateSchemas = new WeakMap<EnvironmentDefinition, z.ZodObject>();

/**
 * The whole `initialState` as the key check walks it: the world options and the environment's own
 * part side by side. An environment that declares no part of its own leaves the top level open.
 */
function stateSchema(definition: EnvironmentDefinition): z.ZodObject {
  let schema = stateSchemas.get(definition);
  if (!schema) {
    const own = definition.initialState;
    schema = own ? z.object({ ...WorldOptions.shape, ...own.shape }) : z.looseObject(WorldOptions.shape);
    stateSchemas.set(definition, schema);
  }
  return schema;
}

/** What `schema` finds wrong with `value`, plus each key it would drop, one line each, located under `prefix`. */
function issueLines(schema: z.ZodType, value: unknown, options: { prefix: string; extraKnown?: readonly string[] }): string[] {
  const parsed = schema.safeParse(value);
  return describe(parsed.success ? [] : parsed.error.issues, unknownKeys(schema, value, options.extraKnown), options.prefix);
}

/** zod's issues and the unknown keys, one line each; zod's own note of a key the walk named too is left out for the walk's, which lists the keys expected. */
function describe(issues: readonly z.core.$ZodIssue[], unknown: readonly UnknownKey[], prefix: string): string[] {
  const named = new Set(unknown.map((u) => JSON.stringify([...u.path.map(String), u.key])));
  const rest = issues.filter((i) => i.code !== 'unrecognized_keys' || i.keys.some((key) => !named.has(JSON.stringify([...i.path.map(String), key]))));
  const lines = rest.length > 0 ? describeZodIssues(rest, prefix).split('\n') : [];
  return [...lines, ...describeUnknownKeys(unknown, prefix)];
}
const shapes = new WeakMap<EnvironmentDefinition, WorldShape>();

/** The state a verifier of `definition` reads: its schema's tables plus what its extra snapshot adds. */
export function worldShape(definition: EnvironmentDefinition): WorldShape {
  let shape = shapes.get(definition);
  if (!shape) {
    const tables = new Map<string, readonly string[]>(schemaTables(definition).map((t) => [t.name, t.columns]));
    for (const [name, columns] of Object.entries(definition.extraSnapshotTables ?? {})) tables.set(name, columns);
    shape = { tables };
    shapes.set(definition, shape);
  }
  return shape;
}

/**
 * The image settings of the sandbox `task` runs in; null when it runs in none. Settings that cannot
 * be read count as no image: the task fails at its reset, naming why.
 */
function sandboxImage(definition: EnvironmentDefinition, task: Task): { image?: string; imageOnly?: boolean } | null {
  if (!definition.sandbox) return null;
  try {
    return definition.sandboxOptions?.(task) ?? {};
  } catch {
    return {};
  }
}

/** Whether `task` runs in a sandbox with no image of its own (an imported task brings its base image), so a backend's default image is needed. */
export function needsDefaultImage(definition: EnvironmentDefinition, task: Task): boolean {
  const settings = sandboxImage(definition, task);
  return settings !== null && settings.image === undefined;
}

/** Whether `task` runs only in its own image (a prebuilt one, nothing replayed), so only on sandboxes that run images. */
export function runsOnlyInImage(definition: EnvironmentDefinition, task: Task): boolean {
  return sandboxImage(definition, task)?.imageOnly === true;
}
