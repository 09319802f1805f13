import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkTaskDirectly } from '../direct-check.ts';
import { toolParametersSchema } from '../instance.ts';
import { mail, mailTasks, MailInitialState } from './index.ts';
import { placeholderPasses, randomPasses } from './test-support.ts';

const tasks = mailTasks();

describe('mail tasks', () => {
  it('has at least 30 tasks, 8 needing 10+ calls and 7 needing 20+', () => {
    assert.ok(tasks.length >= 30, `only ${tasks.length} tasks`);
    const ten = tasks.filter((t) => t.golden.steps.length >= 10).length;
    const twenty = tasks.filter((t) => t.golden.steps.length >= 20).length;
    assert.ok(ten >= 8, `only ${ten} tasks with 10+ golden steps`);
    assert.ok(twenty >= 7, `only ${twenty} tasks with 20+ golden steps`);
  });

  it('names, tags and fixtures every task consistently', () => {
    for (const t of tasks) {
      assert.match(t.id, /^mail\/[a-z0-9-]+$/);
      assert.equal(t.env, 'mail');
      assert.equal(t.tags.domain, 'mail');
      assert.ok(t.tags.labels.length > 0, `${t.id} has no labels`);
      const state = MailInitialState.safeParse(t.initialState);
      assert.ok(state.success, `${t.id}: ${state.success ? '' : state.error.message}`);
      const checks = (t.verifier.checks as { check: string }[]).map((c) => c.check);
      assert.ok(checks.includes('no_other_sent'), `${t.id} does not guard against stray mail`);
      assert.ok(checks.includes('messages_unchanged_except'), `${t.id} does not guard the rest of the mailbox`);
    }
  });

  it('uses only arguments the tools know in golden steps (a YAML comma can split a value into a stray key)', () => {
    const known = new Map(Object.entries(mail.tools).map(([name, tool]) => [name, Object.keys((toolParametersSchema(tool.input).properties ?? {}) as object)]));
    for (const t of tasks) {
      for (const s of t.golden.steps) {
        const keys = known.get(s.tool);
        assert.ok(keys, `${t.id}: unknown tool ${s.tool}`);
        for (const key of Object.keys(s.arguments)) assert.ok(keys.includes(key), `${t.id}: ${s.tool} has no argument "${key}"`);
      }
    }
  });

  for (const task of tasks) {
    it(`${task.id}: golden passes for seeds 1 and 2; idle, destructive, placeholder and random calls fail`, async () => {
      for (const seed of [1, 2]) {
        const result = await checkTaskDirectly(mail, task, { seed });
        assert.deepEqual(result.problems, [], `seed ${seed}:\n${result.problems.join('\n')}`);
      }
      assert.equal(await placeholderPasses(task), false, 'placeholder arguments to every tool pass the verifier');
      assert.equal(await randomPasses(task, 25), false, 'random tool calls pass the verifier');
    });
  }
});
