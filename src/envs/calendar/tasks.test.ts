import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkTaskDirectly } from '../direct-check.ts';
import { instantiate } from '../instance.ts';
import { placeholderPasses } from '../notes/test-support.ts';
import { calendar, calendarTasks } from './index.ts';

describe('calendar tasks', () => {
  const tasks = calendarTasks();

  it('has at least 25 tasks, six needing 20+ calls and more needing 10+', () => {
    assert.ok(tasks.length >= 25, `only ${tasks.length} tasks`);
    const long = tasks.filter((t) => t.golden.steps.length >= 20);
    const medium = tasks.filter((t) => t.golden.steps.length >= 10 && t.golden.steps.length < 20);
    assert.ok(long.length >= 6, `only ${long.length} tasks with 20+ golden steps`);
    assert.ok(medium.length >= 3, `only ${medium.length} tasks with 10-19 golden steps`);
    for (const t of tasks) {
      assert.match(t.id, /^calendar\/[a-z0-9-]+$/);
      assert.equal(t.tags.domain, 'calendar');
      assert.match(t.systemPrompt ?? '', /Monday 16 March 2026/, `${t.id} tells the agent the date`);
    }
  });

  it('fails every long task whose golden solution skips its last write', async () => {
    const reads = new Set(['list_events', 'get_event', 'find_free_slots', 'get_free_busy', 'list_people', 'submit']);
    const signal = new AbortController().signal;
    for (const task of tasks.filter((t) => t.golden.steps.length >= 10)) {
      const lastWrite = task.golden.steps.findLastIndex((s) => !reads.has(s.tool));
      const env = instantiate(calendar);
      await env.reset(task, { seed: 3 });
      for (const [i, s] of task.golden.steps.entries()) if (i !== lastWrite) await env.call(s.tool, s.arguments, { signal });
      assert.equal((await env.verify({ answer: task.golden.answer ?? null })).passed, false, task.id);
      await env.close();
    }
  });

  it('accepts any valid slot, not just the one the golden solution picked', async () => {
    const task = tasks.find((t) => t.id === 'calendar/book-support-roadmap-with-jonah')!;
    const signal = new AbortController().signal;
    const env = instantiate(calendar);
    await env.reset(task, { seed: 5 });
    const find = task.golden.steps.find((s) => s.tool === 'find_free_slots')!;
    await env.call('find_free_slots', find.arguments, { signal });
    const all = await env.call('find_free_slots', { ...find.arguments, limit: 20 }, { signal });
    assert.ok(all.ok);
    const slots = ((all.ok ? all.data : {}) as { slots: { start: string; end: string }[] }).slots;
    const last = slots[slots.length - 1]!;
    const out = await env.call('create_event', { title: 'Roadmap for support', start: last.start, end: last.end, attendees: ['Jonah Pierce'] }, { signal });
    assert.ok(out.ok);
    assert.equal((await env.verify({ answer: null })).passed, true);
    await env.call('create_event', { title: 'Dup', start: slots[0]!.start, end: slots[0]!.end, attendees: ['Jonah Pierce'] }, { signal });
    assert.equal((await env.verify({ answer: null })).passed, false, 'a second booking is a duplicate');
    await env.close();
  });

  for (const task of tasks) {
    it(`${task.id}: golden passes, idle, destructive and placeholder calls fail, seeds 1 and 2`, async () => {
      for (const seed of [1, 2]) {
        const { problems } = await checkTaskDirectly(calendar, task, { seed });
        assert.deepEqual(problems, [], `seed ${seed}: ${problems.join('\n')}`);
      }
      assert.equal(await placeholderPasses(calendar, task), false, 'placeholder arguments to every tool pass the verifier');
    });
  }
});
