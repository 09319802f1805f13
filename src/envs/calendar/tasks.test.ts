import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { instantiate } from '../instance.ts';
import { generatedTaskSetTests } from '../test-support.ts';
import { calendar, calendarTasks } from './index.ts';

describe('calendar tasks', () => {
  const tasks = calendarTasks();

  generatedTaskSetTests(calendar, tasks, ['list_events', 'get_event', 'find_free_slots', 'get_free_busy', 'list_people', 'submit']);

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
});
