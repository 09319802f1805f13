import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ToolInvocation } from '../../core/index.ts';
import { workplaceTasks } from './index.ts';
import { episode, goldenOutcome, signal, toolTask } from './test-support.ts';

const moving = workplaceTasks().filter((t) => Array.isArray(t.metadata?.staleSteps));

describe('workplace world events', () => {
  it('has several tasks whose world changes mid-episode', () => {
    assert.ok(moving.length >= 3, `only ${moving.length} tasks with mid-episode changes and stale paths`);
    for (const t of moving) assert.ok(Array.isArray(t.initialState.schedule) && t.initialState.schedule.length > 0, `${t.id} has a stale path but no schedule`);
  });

  for (const task of moving) {
    it(`${task.id}: the golden path passes and the path that ignores the update fails`, async () => {
      const stale = task.metadata!.staleSteps as unknown as ToolInvocation[];
      for (const seed of [1, 2]) {
        assert.equal((await goldenOutcome(task, { seed })).passed, true, `golden, seed ${seed}`);
        assert.equal((await goldenOutcome(task, { seed, steps: stale })).passed, false, `stale path passes, seed ${seed}`);
      }
    });
  }

  it('posts a colleague\'s chat message on schedule, visible to read_channel and search_chat', async () => {
    const task = toolTask({
      chat: { background: false },
      schedule: [{ event: 'chat_message_posted', afterCalls: 1, params: { id: 'cm_0042', channel: 'design', author: 'hana.k', text: 'Update: the review moved to Thursday.' } }],
    });
    const env = await episode(task);
    try {
      const before = await env.call('search_chat', { query: 'moved' }, { signal });
      assert.ok(before.ok && before.content.includes('"total":0'));
      const after = await env.call('read_channel', { channel: '#design' }, { signal });
      assert.ok(after.ok && after.content.includes('cm_0042') && after.content.includes('Hana Kobayashi (@hana.k)'));
    } finally {
      await env.close();
    }
  });
});
