// What can be known about a task before any episode runs: its world options, verifier checks and
// scheduled events exist and take the parameters given. Runs check this up front, so a broken
// task is an input error naming the task, not a rollout that fails halfway.
import { describeZodIssues, type Task } from '../core/index.ts';
import { genericChecks } from './checks.ts';
import { VerifierSpec, WorldOptions, type EnvironmentDefinition, type WorldShape } from './define.ts';
import { schemaTables } from './images.ts';
import { interopChecks } from './interop/checks.ts';

/** Problems with the task as data for this environment; empty when none. */
export function taskProblems(definition: EnvironmentDefinition, task: Task): string[] {
  const problems: string[] = [];
  if (task.env !== definition.name) problems.push(`env is "${task.env}", not "${definition.name}"`);
  const world = WorldOptions.safeParse(task.initialState);
  if (!world.success) problems.push(`initialState\n${describeZodIssues(world.error.issues, 'initialState')}`);
  else {
    world.data.schedule.forEach((event, i) => {
      const known = definition.events?.[event.event];
      if (!known) problems.push(`initialState.schedule.${i}: unknown world event "${event.event}" (known: ${Object.keys(definition.events ?? {}).join(', ') || 'none'})`);
      else {
        const params = known.params.safeParse(event.params);
        if (!params.success) problems.push(`initialState.schedule.${i} (${event.event})\n${describeZodIssues(params.error.issues, 'params')}`);
      }
    });
    for (const tool of world.data.flakyTools) if (!definition.tools[tool]) problems.push(`initialState.flakyTools: unknown tool "${tool}"`);
  }
  const spec = VerifierSpec.safeParse(task.verifier);
  if (!spec.success) problems.push(`verifier\n${describeZodIssues(spec.error.issues, 'verifier')}`);
  else {
    spec.data.checks.forEach(({ check, ...params }, i) => {
      const known = definition.checks[check] ?? genericChecks[check] ?? interopChecks[check];
      if (!known) problems.push(`verifier.checks.${i}: unknown check "${check}"`);
      else {
        const parsed = known.params.safeParse(params);
        if (!parsed.success) problems.push(`verifier.checks.${i} (${check})\n${describeZodIssues(parsed.error.issues)}`);
        else for (const problem of known.problems?.(parsed.data, worldShape(definition)) ?? []) problems.push(`verifier.checks.${i} (${check}): ${problem}`);
      }
    });
  }
  task.golden.steps.forEach((step, i) => {
    if (!definition.tools[step.tool]) problems.push(`golden.steps.${i}: unknown tool "${step.tool}"`);
  });
  return problems;
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
