// Helpers for the environment tests: bare tasks over fixtures, tool outcomes, a
// placeholder-argument policy driven directly, and the specification every generated task set meets.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Task, type Environment, type JsonValue, type ToolOutcome } from '../core/index.ts';
import { placeholderArguments } from '../model/index.ts';
import type { EnvironmentDefinition } from './define.ts';
import { checkTaskDirectly } from './direct-check.ts';
import { instantiate, toolParametersSchema } from './instance.ts';

/** A task over `fixtures` for tool tests: no golden steps, only the given checks. */
export function fixtureTask(env: string, fixtures: object, checks: JsonValue[]): Task {
  return Task.parse({
    id: `${env}/test`,
    env,
    instruction: 'test',
    initialState: JSON.parse(JSON.stringify(fixtures)) as Record<string, JsonValue>,
    verifier: { checks },
    golden: { steps: [] },
    tags: { domain: env, difficulty: 'easy' },
  });
}

/** A started episode of `task`. */
export async function episode(definition: EnvironmentDefinition, task: Task, seed = 1): Promise<Environment> {
  const env = instantiate(definition);
  await env.reset(task, { seed });
  return env;
}

/** The data of a call that must succeed. */
export function data(out: ToolOutcome): Record<string, JsonValue> {
  assert.equal(out.ok, true, out.ok ? '' : out.error);
  return (out.ok ? out.data : {}) as Record<string, JsonValue>;
}

/** The error of a call that must fail. */
export function error(out: ToolOutcome): string {
  assert.equal(out.ok, false, 'expected the call to fail');
  return out.ok ? '' : out.error;
}

/** Calls every tool once with placeholder arguments, as the placeholder policy does (submit last) and returns whether the task passed. */
export async function placeholderPasses(definition: EnvironmentDefinition, task: Task, seed = 1): Promise<boolean> {
  const env = instantiate(definition);
  const signal = new AbortController().signal;
  try {
    await env.reset(task, { seed });
    let answer: string | null = null;
    const tools = Object.entries(definition.tools).sort(([a], [b]) => (a === 'submit' ? 1 : b === 'submit' ? -1 : 0));
    for (const [name, tool] of tools) {
      const out = await env.call(name, placeholderArguments(toolParametersSchema(tool.input)), { signal });
      if (out.ok && out.answer !== undefined) answer = out.answer;
    }
    return (await env.verify({ answer: answer ?? 'placeholder' })).passed;
  } finally {
    await env.close();
  }
}

/**
 * The tests every generated task set (calendar, notes) must pass, registered in the caller's
 * describe: enough long tasks, each dated and tagged; none passing without its last write (`reads`
 * are the tools that write nothing); golden passing on two seeds while idle, destructive and
 * placeholder play fail.
 */
export function generatedTaskSetTests(definition: EnvironmentDefinition, tasks: Task[], reads: readonly string[]): void {
  const { name } = definition;

  it('has at least 25 tasks, six needing 20+ calls and more needing 10+', () => {
    assert.ok(tasks.length >= 25, `only ${tasks.length} tasks`);
    const long = tasks.filter((t) => t.golden.steps.length >= 20);
    const medium = tasks.filter((t) => t.golden.steps.length >= 10 && t.golden.steps.length < 20);
    assert.ok(long.length >= 6, `only ${long.length} tasks with 20+ golden steps`);
    assert.ok(medium.length >= 3, `only ${medium.length} tasks with 10-19 golden steps`);
    for (const t of tasks) {
      assert.match(t.id, new RegExp(`^${name}\\/[a-z0-9-]+$`));
      assert.equal(t.tags.domain, name);
      assert.match(t.systemPrompt ?? '', /Monday 16 March 2026/, `${t.id} tells the agent the date`);
    }
  });

  it('fails every long task whose golden solution skips its last write', async () => {
    const readOnly = new Set(reads);
    const signal = new AbortController().signal;
    for (const task of tasks.filter((t) => t.golden.steps.length >= 10)) {
      const lastWrite = task.golden.steps.findLastIndex((s) => !readOnly.has(s.tool));
      const env = instantiate(definition);
      await env.reset(task, { seed: 3 });
      for (const [i, s] of task.golden.steps.entries()) if (i !== lastWrite) await env.call(s.tool, s.arguments, { signal });
      assert.equal((await env.verify({ answer: task.golden.answer ?? null })).passed, false, task.id);
      await env.close();
    }
  });

  for (const task of tasks) {
    it(`${task.id}: golden passes, idle, destructive and placeholder calls fail, seeds 1 and 2`, async () => {
      for (const seed of [1, 2]) {
        const { problems } = await checkTaskDirectly(definition, task, { seed });
        assert.deepEqual(problems, [], `seed ${seed}: ${problems.join('\n')}`);
      }
      assert.equal(await placeholderPasses(definition, task), false, 'placeholder arguments to every tool pass the verifier');
    });
  }
}
