import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkTaskDirectly } from '../direct-check.ts';
import { instantiate } from '../instance.ts';
import { notes, notesTasks } from './index.ts';
import { placeholderPasses } from './test-support.ts';

describe('notes tasks', () => {
  const tasks = notesTasks();

  it('has at least 25 tasks, six needing 20+ calls and more needing 10+', () => {
    assert.ok(tasks.length >= 25, `only ${tasks.length} tasks`);
    const long = tasks.filter((t) => t.golden.steps.length >= 20);
    const medium = tasks.filter((t) => t.golden.steps.length >= 10 && t.golden.steps.length < 20);
    assert.ok(long.length >= 6, `only ${long.length} tasks with 20+ golden steps`);
    assert.ok(medium.length >= 3, `only ${medium.length} tasks with 10-19 golden steps`);
    for (const t of tasks) {
      assert.match(t.id, /^notes\/[a-z0-9-]+$/);
      assert.equal(t.tags.domain, 'notes');
      assert.match(t.systemPrompt ?? '', /Monday 16 March 2026/, `${t.id} tells the agent the date`);
    }
  });

  it('fails every long task whose golden solution skips its last write', async () => {
    const reads = new Set(['search', 'get_page', 'query_database', 'list_members', 'submit']);
    const signal = new AbortController().signal;
    for (const task of tasks.filter((t) => t.golden.steps.length >= 10)) {
      const lastWrite = task.golden.steps.findLastIndex((s) => !reads.has(s.tool));
      const env = instantiate(notes);
      await env.reset(task, { seed: 3 });
      for (const [i, s] of task.golden.steps.entries()) if (i !== lastWrite) await env.call(s.tool, s.arguments, { signal });
      assert.equal((await env.verify({ answer: task.golden.answer ?? null })).passed, false, task.id);
      await env.close();
    }
  });

  it('accepts other wordings and orders that hold the same facts', async () => {
    const signal = new AbortController().signal;
    const task = tasks.find((t) => t.id === 'notes/create-vendor-sync-notes')!;
    const env = instantiate(notes);
    await env.reset(task, { seed: 4 });
    const blocks = [
      { type: 'todo', text: 'Me: circulate vendor scorecard' },
      { type: 'todo', text: 'Elena — confirm Copperline Print renewal date on the contract' },
      { type: 'todo', text: 'Oliver — get 2 quotes for badge printers' },
      { type: 'bullet', text: 'Present: Oliver Brandt, Elena Varga, Robin' },
    ];
    const created = await env.call('create_page', { parent_id: 'meetings', title: 'vendor sync 2026-03-16' }, { signal });
    assert.ok(created.ok);
    const id = String(((created.ok ? created.data : {}) as { id: string }).id);
    assert.ok((await env.call('append_blocks', { page_id: id, blocks }, { signal })).ok);
    assert.equal((await env.verify({ answer: null })).passed, true);
    await env.close();
  });

  for (const task of tasks) {
    it(`${task.id}: golden passes, idle, destructive and placeholder calls fail, seeds 1 and 2`, async () => {
      for (const seed of [1, 2]) {
        const { problems } = await checkTaskDirectly(notes, task, { seed });
        assert.deepEqual(problems, [], `seed ${seed}: ${problems.join('\n')}`);
      }
      assert.equal(await placeholderPasses(notes, task), false, 'placeholder arguments to every tool pass the verifier');
    });
  }
});
