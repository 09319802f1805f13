import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkTaskDirectly } from '../direct-check.ts';
import { toolParametersSchema } from '../instance.ts';
import { workplace, workplaceTasks, WorkplaceInitialState } from './index.ts';
import { placeholderPasses } from './test-support.ts';

const tasks = workplaceTasks();

describe('workplace tasks', () => {
  it('has at least 25 tasks, 8 needing 20+ calls and several more needing 10+', () => {
    assert.ok(tasks.length >= 25, `only ${tasks.length} tasks`);
    const long = tasks.filter((t) => t.golden.steps.length >= 20).length;
    const medium = tasks.filter((t) => t.golden.steps.length >= 10 && t.golden.steps.length < 20).length;
    assert.ok(long >= 8, `only ${long} tasks with 20+ golden steps`);
    assert.ok(medium >= 4, `only ${medium} tasks with 10-19 golden steps`);
  });

  it('names, tags and guards every task the same way', () => {
    for (const t of tasks) {
      assert.match(t.id, /^workplace\/[a-z0-9-]+$/);
      assert.equal(t.env, 'workplace');
      assert.equal(t.tags.domain, 'workplace');
      assert.ok(t.tags.labels.length > 0, `${t.id} has no labels`);
      const state = WorkplaceInitialState.safeParse(t.initialState);
      assert.ok(state.success, `${t.id}: ${state.success ? '' : state.error.message}`);
      const checks = (t.verifier.checks as { check: string }[]).map((c) => c.check);
      assert.ok(checks.includes('workplace_unchanged'), `${t.id} does not guard the other apps`);
      assert.ok(checks.some((c) => c !== 'workplace_unchanged'), `${t.id} has no outcome check`);
    }
  });

  it('uses only tools and arguments that exist in golden steps', () => {
    const known = new Map(Object.entries(workplace.tools).map(([name, tool]) => [name, Object.keys((toolParametersSchema(tool.input).properties ?? {}) as object)]));
    for (const t of tasks) {
      for (const s of [...t.golden.steps, ...((t.metadata?.staleSteps ?? []) as { tool: string; arguments: object }[])]) {
        const keys = known.get(s.tool);
        assert.ok(keys, `${t.id}: unknown tool ${s.tool}`);
        for (const key of Object.keys(s.arguments)) assert.ok(keys.includes(key), `${t.id}: ${s.tool} has no argument "${key}"`);
      }
    }
  });

  for (const task of tasks) {
    it(`${task.id}: golden passes for seeds 1 and 2; idle, destructive and placeholder calls fail`, async () => {
      for (const seed of [1, 2]) {
        const result = await checkTaskDirectly(workplace, task, { seed });
        assert.deepEqual(result.problems, [], `seed ${seed}:\n${result.problems.join('\n')}`);
      }
      assert.equal(await placeholderPasses(task), false, 'placeholder arguments to every tool pass the verifier');
    });
  }
});
